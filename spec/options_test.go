package spec

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pinned is a container using every field that existed before
// readOnlyRootFilesystem, capDrop, ulimits, shmSize, hostAliases and
// dnsConfig were added.
const pinned = `apiVersion: reconciler/v1
kind: Container
metadata: {name: db, labels: {tier: data}, annotations: {note: x}}
spec:
  host: edge
  image: docker.io/library/busybox:1.36
  command: [/bin/db]
  args: [--port, "5432"]
  env: [{name: A, value: "1"}, {name: B, value: "x=y"}]
  workingDir: /srv
  user: "1000:1000"
  hostname: db1
  volumes: [{name: data, mountPath: /var/lib/db, subPath: pg, readOnly: true}]
  binds: [{hostPath: /etc/ssl, mountPath: /etc/ssl, readOnly: true}]
  tmpfs: [{mountPath: /tmp, sizeLimit: 64Mi}]
  restartPolicy: OnFailure
  resources: {memory: 1Gi, cpus: 250m, pids: 64}
  stopSignal: SIGINT
  stopGracePeriod: 30s
  labels: {team: infra}
`

// TestHashPinnedAcrossReleases: manifests that do not use a field added
// later keep the hash they had, or an upgrade would recreate every
// container. The values are what main computed (at c1ccd73) before the
// container options were added; never update them to make this pass.
func TestHashPinnedAcrossReleases(t *testing.T) {
	example, err := os.ReadFile("../examples/container.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"every older field", pinned, "8c4c7bba1ff98892bc24a350121e06a1c6393225bb29dd643bf7e9f7ada0a1fe"},
		{"hash tests' base", base, "0db68cba662307f954ce8cc7c543767e7344931b42a3694c4c6a4045745e4457"},
		{"examples/container.yaml", string(example), "c0f809204abad31d8b74a3192cd3fd58ce37907dd5d090fad49d6f53fb7ab0bc"},
		// The new fields written out as empty mean what leaving them out does.
		{"new fields empty", pinned + "  readOnlyRootFilesystem: false\n  capDrop: []\n  ulimits: []\n  shmSize: \"\"\n  hostAliases: []\n  dnsConfig: {}\n",
			"8c4c7bba1ff98892bc24a350121e06a1c6393225bb29dd643bf7e9f7ada0a1fe"},
		{"new fields null", pinned + "  capDrop:\n  dnsConfig: {nameservers: [], options: []}\n",
			"8c4c7bba1ff98892bc24a350121e06a1c6393225bb29dd643bf7e9f7ada0a1fe"},
		// init, oomScoreAdj and logging, added later, vanish the same way.
		{"process fields empty", pinned + "  init: false\n  oomScoreAdj: 0\n  logging: {}\n",
			"8c4c7bba1ff98892bc24a350121e06a1c6393225bb29dd643bf7e9f7ada0a1fe"},
		{"process fields null", pinned + "  init:\n  oomScoreAdj:\n  logging:\n",
			"8c4c7bba1ff98892bc24a350121e06a1c6393225bb29dd643bf7e9f7ada0a1fe"},
		{"logging fields empty", pinned + "  logging: {maxSize: \"\", maxFiles: null}\n",
			"8c4c7bba1ff98892bc24a350121e06a1c6393225bb29dd643bf7e9f7ada0a1fe"},
	} {
		if got := hashOf(t, tc.doc); got != tc.want {
			t.Errorf("%s: hash %s, want %s as before", tc.name, got, tc.want)
		}
	}
}

const optionsDoc = `apiVersion: reconciler/v1
kind: Container
metadata: {name: hard}
spec:
  image: docker.io/library/busybox:1.36
  readOnlyRootFilesystem: true
  capDrop: [net_raw, CAP_CHOWN, ALL]
  ulimits: [{name: nofile, soft: 1024, hard: 2048}, {name: core, soft: 0, hard: -1}]
  shmSize: "134217728"
  hostAliases: [{ip: "::0001", hostnames: [a, b.example]}, {ip: 10.0.0.1, hostnames: [c]}]
  dnsConfig:
    nameservers: [1.1.1.1, "2001:db8::0:1"]
    searches: [svc.example, example]
    options: [{name: ndots, value: "2"}, {name: rotate}]
`

// TestDecodeContainerOptions: the new fields decode, and defaulting
// writes capabilities, quantities and addresses in one spelling.
func TestDecodeContainerOptions(t *testing.T) {
	objs, err := Decode("o.yaml", []byte(optionsDoc))
	if err != nil {
		t.Fatal(err)
	}
	s := objs[0].Container.Spec
	i64 := func(n int64) *int64 { return &n }
	want := ContainerSpec{
		ReadOnlyRootFilesystem: true,
		CapDrop:                []string{"NET_RAW", "CHOWN", "ALL"},
		Ulimits:                []Ulimit{{Name: "nofile", Soft: i64(1024), Hard: i64(2048)}, {Name: "core", Soft: i64(0), Hard: i64(-1)}},
		ShmSize:                "128Mi",
		HostAliases:            []HostAlias{{IP: "::1", Hostnames: []string{"a", "b.example"}}, {IP: "10.0.0.1", Hostnames: []string{"c"}}},
		DNSConfig: &DNSConfig{Nameservers: []string{"1.1.1.1", "2001:db8::1"}, Searches: []string{"svc.example", "example"},
			Options: []DNSOption{{Name: "ndots", Value: "2"}, {Name: "rotate"}}},
	}
	got := ContainerSpec{ReadOnlyRootFilesystem: s.ReadOnlyRootFilesystem, CapDrop: s.CapDrop, Ulimits: s.Ulimits,
		ShmSize: s.ShmSize, HostAliases: s.HostAliases, DNSConfig: s.DNSConfig}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	canonical := strings.NewReplacer("net_raw, CAP_CHOWN", "NET_RAW, CHOWN", `"134217728"`, "128Mi", `"::0001"`, `"::1"`, `"2001:db8::0:1"`, `"2001:db8::1"`).Replace(optionsDoc)
	if a, b := hashOf(t, optionsDoc), hashOf(t, canonical); a != b {
		t.Errorf("equal spellings hash differently: %s, %s", a, b)
	}
}

func TestValidateContainerOptions(t *testing.T) {
	head := "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\nspec:\n  image: docker.io/library/x:1\n"
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"capDrop", "  capDrop: [NET_RAW, NET_FOO, cap_net_raw]\n", []string{
			`f.yaml: document 1 (line 6): spec.capDrop[1]: "NET_FOO" is not a capability`,
			`f.yaml: document 1 (line 6): spec.capDrop[2]: NET_RAW is already dropped by spec.capDrop[0]`}},
		{"capDrop type", "  capDrop: NET_RAW\n", []string{`f.yaml: document 1 (line 6): spec.capDrop: must be a list, not the string "NET_RAW"`}},
		{"ulimits", "  ulimits:\n  - {name: nofiles, soft: 1, hard: 1}\n  - {name: nproc, soft: 10, hard: 5}\n  - {name: nproc, soft: -1, hard: 5}\n  - {name: core, soft: -2}\n  - {name: stack, soft: x, hard: 1, max: 2}\n", []string{
			`f.yaml: document 1 (line 7): spec.ulimits[0].name: "nofiles" is not a ulimit: use one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack`,
			`f.yaml: document 1 (line 8): spec.ulimits[1].soft: 10 is more than the hard limit 5`,
			`f.yaml: document 1 (line 9): spec.ulimits[2].name: nproc is already set by spec.ulimits[1]`,
			`f.yaml: document 1 (line 9): spec.ulimits[2].soft: -1 (unlimited) is more than the hard limit 5`,
			`f.yaml: document 1 (line 10): spec.ulimits[3].soft: must be -1 (unlimited) or more, not -2`,
			`f.yaml: document 1 (line 10): spec.ulimits[3].hard: is required: a number, or -1 for unlimited`,
			`f.yaml: document 1 (line 11): spec.ulimits[4].max: unknown field`,
			`f.yaml: document 1 (line 11): spec.ulimits[4].soft: must be a whole number, not the string "x"`}},
		{"shmSize", "  shmSize: 64mb\n", []string{`f.yaml: document 1 (line 6): spec.shmSize: "64mb" is not a quantity: write binary units like 64Mi or 1Gi (or decimal 64M, 1G)`}},
		{"shmSize zero", "  shmSize: \"0\"\n", []string{`f.yaml: document 1 (line 6): spec.shmSize: must be more than 0 (leave it out for Docker's 64Mi)`}},
		{"hostAliases", "  hostAliases:\n  - ip: 1.2.3\n    hostnames: [a, \"b c\"]\n  - ip: 10.0.0.1\n  - hostnames: [x]\n", []string{
			`f.yaml: document 1 (line 7): spec.hostAliases[0].ip: "1.2.3" is not an IP address`,
			`f.yaml: document 1 (line 8): spec.hostAliases[0].hostnames[1]: "b c" is not a valid hostname: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit`,
			`f.yaml: document 1 (line 9): spec.hostAliases[1].hostnames: is required: the names that resolve to 10.0.0.1`,
			`f.yaml: document 1 (line 10): spec.hostAliases[2].ip: is required: an IPv4 or IPv6 address`}},
		{"dnsConfig", "  dnsConfig:\n    nameservers: [1.1.1.1, dns.example, 8.8.8.8, 9.9.9.9]\n    searches: [-bad]\n    options: [{name: \"ndots:2\"}, {value: \"1\"}, {name: timeout, value: \"1 2\"}]\n    nameserver: [x]\n", []string{
			`f.yaml: document 1 (line 7): spec.dnsConfig.nameservers: lists 4 nameservers; the resolver reads at most 3`,
			`f.yaml: document 1 (line 7): spec.dnsConfig.nameservers[1]: "dns.example" is not an IP address`,
			`f.yaml: document 1 (line 8): spec.dnsConfig.searches[0]: "-bad" is not a valid search domain: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit`,
			`f.yaml: document 1 (line 9): spec.dnsConfig.options[0].name: "ndots:2" is not a resolver option: one word without ':' (put the number in value)`,
			`f.yaml: document 1 (line 9): spec.dnsConfig.options[1].name: is required: a resolver option like ndots, timeout or rotate`,
			`f.yaml: document 1 (line 9): spec.dnsConfig.options[2].value: "1 2" must be one word`,
			`f.yaml: document 1 (line 10): spec.dnsConfig.nameserver: unknown field (did you mean "nameservers"?)`}},
		{"readOnlyRootFilesystem", "  readOnlyRootFileSystem: true\n", []string{
			`f.yaml: document 1 (line 6): spec.readOnlyRootFileSystem: unknown field (did you mean "readOnlyRootFilesystem"?)`}},
		{"init type", "  init: \"yes\"\n", []string{`f.yaml: document 1 (line 6): spec.init: must be true or false, not the string "yes"`}},
		{"oomScoreAdj range", "  oomScoreAdj: 1001\n", []string{`f.yaml: document 1 (line 6): spec.oomScoreAdj: must be between -1000 and 1000, not 1001`}},
		{"oomScoreAdj low", "  oomScoreAdj: -1001\n", []string{`f.yaml: document 1 (line 6): spec.oomScoreAdj: must be between -1000 and 1000, not -1001`}},
		{"oomScoreAdj type", "  oomScoreAdj: high\n", []string{`f.yaml: document 1 (line 6): spec.oomScoreAdj: must be a whole number, not the string "high"`}},
		{"logging", "  logging:\n    maxSize: 10mb\n    maxFiles: 0\n    driver: local\n", []string{
			`f.yaml: document 1 (line 7): spec.logging.maxSize: "10mb" is not a quantity: write binary units like 64Mi or 1Gi (or decimal 64M, 1G)`,
			`f.yaml: document 1 (line 8): spec.logging.maxFiles: want a whole number of at least 1, not 0`,
			`f.yaml: document 1 (line 9): spec.logging.driver: unknown field`}},
		{"logging zero size", "  logging: {maxSize: \"0\"}\n", []string{`f.yaml: document 1 (line 6): spec.logging.maxSize: must be more than 0 (leave it out for the engine's limit)`}},
		{"maxFiles needs maxSize", "  logging:\n    maxFiles: 3\n", []string{
			`f.yaml: document 1 (line 7): spec.logging.maxFiles: keeps 3 files, so needs spec.logging.maxSize: the size at which a file is rotated`}},
		{"logging type", "  logging: 10Mi\n", []string{`f.yaml: document 1 (line 6): spec.logging: must be a mapping of fields, not the string "10Mi"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("f.yaml", []byte(head+tc.in))
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v is not an ErrorList", err)
			}
			if diff := cmp.Diff(tc.want, strings.Split(list.Error(), "\n")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeProcessOptions: init, oomScoreAdj and logging decode;
// maxSize is written in one spelling, and maxFiles 1 beside maxSize (what
// maxSize alone keeps) is dropped, so equal meanings hash the same.
func TestDecodeProcessOptions(t *testing.T) {
	doc := "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: p}\nspec:\n  image: docker.io/library/busybox:1.36\n" +
		"  init: true\n  oomScoreAdj: -17\n  logging: {maxSize: \"10485760\", maxFiles: 3}\n"
	objs, err := Decode("p.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s := objs[0].Container.Spec
	three := 3
	want := ContainerSpec{Init: true, OOMScoreAdj: -17, Logging: &Logging{MaxSize: "10Mi", MaxFiles: &three}}
	if diff := cmp.Diff(want, ContainerSpec{Init: s.Init, OOMScoreAdj: s.OOMScoreAdj, Logging: s.Logging}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if a, b := hashOf(t, doc), hashOf(t, strings.Replace(doc, `"10485760"`, "10Mi", 1)); a != b {
		t.Errorf("equal sizes hash differently: %s, %s", a, b)
	}
	one := strings.Replace(doc, "maxFiles: 3", "maxFiles: 1", 1)
	if a, b := hashOf(t, one), hashOf(t, strings.Replace(doc, ", maxFiles: 3", "", 1)); a != b {
		t.Errorf("maxFiles: 1 beside maxSize hashes unlike maxSize alone: %s, %s", a, b)
	}
}
