package spec

import (
	"strings"
	"testing"
)

// base is a container written the short way; the tables below rewrite it.
const base = `apiVersion: reconciler/v1
kind: Container
metadata: {name: web, labels: {app: shop}}
spec:
  image: web:1
  command: [/web]
  env: [{name: PORT, value: "8080"}]
  volumes: [{name: data, mountPath: /data}]
  resources: {memory: 64Mi, cpus: "0.5", pids: 10}
  stopSignal: SIGTERM
`

func hashOf(t *testing.T, doc string) string {
	t.Helper()
	objs, err := Decode("h.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("decode:\n%s\n%v", doc, err)
	}
	if len(objs) != 1 {
		t.Fatalf("got %d objects", len(objs))
	}
	return objs[0].Hash
}

func TestHashSameMeaning(t *testing.T) {
	want := hashOf(t, base)
	for name, doc := range map[string]string{
		"key order and comments": `# reordered
kind: Container   # the kind
spec:
  stopSignal: SIGTERM
  resources: {pids: 10, cpus: "0.5", memory: 64Mi}
  volumes:
  - mountPath: /data
    name: data
  env:
  - value: "8080"
    name: PORT
  command:
  - /web
  image: web:1
metadata:
  labels:
    app: shop
  name: web
apiVersion: reconciler/v1
`,
		"json": `{"apiVersion":"reconciler/v1","kind":"Container","metadata":{"name":"web","labels":{"app":"shop"}},
"spec":{"image":"web:1","command":["/web"],"env":[{"name":"PORT","value":"8080"}],
"volumes":[{"name":"data","mountPath":"/data"}],"resources":{"memory":"64Mi","cpus":"0.5","pids":10},"stopSignal":"SIGTERM"}}`,
		"defaults written out": base + `  host: local
  restartPolicy: Always
  network: none
  stopGracePeriod: 10s
  labels: {}
  args: []
`,
		"equal spellings": `apiVersion: reconciler/v1
kind: Container
metadata: {name: web, labels: {app: shop}, annotations: {note: annotations do not count}}
spec:
  image: web:1
  command: [/web]
  env: [{name: PORT, value: "8080"}]
  volumes: [{name: data, mountPath: /data/, readOnly: false}]
  resources: {memory: "67108864", cpus: 500m, pids: 10}
  stopSignal: term
  stopGracePeriod: 10000ms
`,
	} {
		if got := hashOf(t, doc); got != want {
			t.Errorf("%s: hash %s, want %s (same meaning as base)", name, got, want)
		}
	}
}

func TestHashDifferentMeaning(t *testing.T) {
	baseHash := hashOf(t, base)
	seen := map[string]string{}
	for name, doc := range map[string]string{
		"name":                   replace(base, "name: web,", "name: web2,"),
		"metadata label":         replace(base, "app: shop", "app: shop2"),
		"host":                   base + "  host: edge\n",
		"image":                  replace(base, "image: web:1", "image: web:2"),
		"command":                replace(base, "command: [/web]", "command: [/web, -v]"),
		"args":                   base + "  args: [-v]\n",
		"env value":              replace(base, `value: "8080"`, `value: "9090"`),
		"env added":              replace(base, `env: [`, `env: [{name: A, value: ""}, `),
		"workingDir":             base + "  workingDir: /app\n",
		"user":                   base + "  user: \"1000\"\n",
		"hostname":               base + "  hostname: web\n",
		"mount path":             replace(base, "mountPath: /data}", "mountPath: /data2}"),
		"mount read-only":        replace(base, "mountPath: /data}", "mountPath: /data, readOnly: true}"),
		"subPath":                replace(base, "mountPath: /data}", "mountPath: /data, subPath: x}"),
		"bind":                   base + "  binds: [{hostPath: /srv, mountPath: /srv}]\n",
		"tmpfs":                  base + "  tmpfs: [{mountPath: /tmp}]\n",
		"tmpfs size":             base + "  tmpfs: [{mountPath: /tmp, sizeLimit: 1Mi}]\n",
		"restartPolicy":          base + "  restartPolicy: Never\n",
		"memory":                 replace(base, "memory: 64Mi", "memory: 65Mi"),
		"cpus":                   replace(base, `cpus: "0.5"`, `cpus: "0.6"`),
		"pids":                   replace(base, "pids: 10", "pids: 11"),
		"stopSignal":             replace(base, "SIGTERM", "SIGQUIT"),
		"stopGracePeriod":        base + "  stopGracePeriod: 11s\n",
		"network":                base + "  network: host\n",
		"spec labels":            base + "  labels: {tier: web}\n",
		"readOnlyRootFilesystem": base + "  readOnlyRootFilesystem: true\n",
		"capDrop":                base + "  capDrop: [NET_RAW]\n",
		"capDrop other":          base + "  capDrop: [ALL]\n",
		"ulimit":                 base + "  ulimits: [{name: nofile, soft: 1024, hard: 2048}]\n",
		"ulimit soft":            base + "  ulimits: [{name: nofile, soft: 1023, hard: 2048}]\n",
		"ulimit hard":            base + "  ulimits: [{name: nofile, soft: 1024, hard: -1}]\n",
		"ulimit zero":            base + "  ulimits: [{name: nofile, soft: 0, hard: 2048}]\n",
		"shmSize":                base + "  shmSize: 128Mi\n",
		"shmSize other":          base + "  shmSize: 64Mi\n",
		"hostAlias":              base + "  hostAliases: [{ip: 1.2.3.4, hostnames: [a]}]\n",
		"hostAlias ip":           base + "  hostAliases: [{ip: 1.2.3.5, hostnames: [a]}]\n",
		"hostAlias names":        base + "  hostAliases: [{ip: 1.2.3.4, hostnames: [a, b]}]\n",
		"nameserver":             base + "  dnsConfig: {nameservers: [1.1.1.1]}\n",
		"search":                 base + "  dnsConfig: {searches: [example]}\n",
		"dns option":             base + "  dnsConfig: {options: [{name: ndots}]}\n",
		"dns option value":       base + "  dnsConfig: {options: [{name: ndots, value: \"2\"}]}\n",
		"init":                   base + "  init: true\n",
		"oomScoreAdj":            base + "  oomScoreAdj: 500\n",
		"oomScoreAdj other":      base + "  oomScoreAdj: -500\n",
		"logging maxSize":        base + "  logging: {maxSize: 10Mi}\n",
		"logging maxSize other":  base + "  logging: {maxSize: 1Mi}\n",
		"logging maxFiles":       base + "  logging: {maxSize: 10Mi, maxFiles: 3}\n",
		"logging maxFiles alone": base + "  logging: {maxFiles: 1}\n",
	} {
		got := hashOf(t, doc)
		if got == baseHash {
			t.Errorf("%s: changing it did not change the hash", name)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s and %s hash the same", name, other)
		}
		seen[got] = name
	}
}

func TestHashOtherKinds(t *testing.T) {
	pairs := []struct {
		name       string
		a, b       string
		sameHashes bool
	}{
		{"image tag default", "kind: Image\nmetadata: {name: i}\nspec: {tag: web, pull: {ref: docker.io/library/web}}",
			"kind: Image\nmetadata: {name: i}\nspec: {tag: 'web:latest', pull: {ref: docker.io/library/web}, host: local}", true},
		{"dockerfile default", "kind: Image\nmetadata: {name: i}\nspec: {tag: 'w:1', build: {context: /src}}",
			"kind: Image\nmetadata: {name: i}\nspec: {tag: 'w:1', build: {context: /src, dockerfile: Dockerfile}}", true},
		{"build arg", "kind: Image\nmetadata: {name: i}\nspec: {tag: 'w:1', build: {context: /src}}",
			"kind: Image\nmetadata: {name: i}\nspec: {tag: 'w:1', build: {context: /src, args: {V: '1'}}}", false},
		{"build context", "kind: Image\nmetadata: {name: i}\nspec: {tag: 'w:1', build: {context: /src}}",
			"kind: Image\nmetadata: {name: i}\nspec: {tag: 'w:1', build: {context: /src2}}", false},
		{"volume defaults", "kind: Volume\nmetadata: {name: v}",
			"kind: Volume\nmetadata: {name: v}\nspec: {driver: local, reclaimPolicy: Retain, host: local}", true},
		{"volume reclaim", "kind: Volume\nmetadata: {name: v}",
			"kind: Volume\nmetadata: {name: v}\nspec: {reclaimPolicy: Delete}", false},
		{"volume labels", "kind: Volume\nmetadata: {name: v}",
			"kind: Volume\nmetadata: {name: v}\nspec: {labels: {a: b}}", false},
		{"host timeout default", "kind: Host\nmetadata: {name: h}\nspec: {address: 'tcp://h:2375'}",
			"kind: Host\nmetadata: {name: h}\nspec: {address: 'tcp://h:2375', timeout: 30s}", true},
		{"host address", "kind: Host\nmetadata: {name: h}\nspec: {address: 'tcp://h:2375'}",
			"kind: Host\nmetadata: {name: h}\nspec: {address: 'tcp://h:2377'}", false},
	}
	for _, p := range pairs {
		a := hashOf(t, "apiVersion: reconciler/v1\n"+p.a+"\n")
		b := hashOf(t, "apiVersion: reconciler/v1\n"+p.b+"\n")
		if (a == b) != p.sameHashes {
			t.Errorf("%s: same hash = %v, want %v", p.name, a == b, p.sameHashes)
		}
	}
}

func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("test bug: " + old + " not in base")
	}
	return strings.Replace(s, old, new, 1)
}
