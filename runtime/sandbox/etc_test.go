package sandbox

import (
	"os"
	"strings"
	"testing"
)

// TestResolvConf: each of --dns, --dns-search and --dns-option replaces
// its part of the host's resolv.conf, the rest is the host's, in dockerd
// 20.10's layout.
func TestResolvConf(t *testing.T) {
	host := "# comment\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch a.example b.example\noptions ndots:1\n"
	for _, tc := range []struct {
		names Names
		want  string
	}{
		{Names{DNS: []string{"1.1.1.1"}}, "search a.example b.example\nnameserver 1.1.1.1\noptions ndots:1\n"},
		{Names{DNSSearch: []string{"x.y"}}, "search x.y\nnameserver 10.0.0.1\nnameserver 10.0.0.2\noptions ndots:1\n"},
		{Names{DNSSearch: []string{"."}, DNSOptions: []string{"ndots:2", "rotate"}}, "nameserver 10.0.0.1\nnameserver 10.0.0.2\noptions ndots:2 rotate\n"},
		{Names{DNS: []string{"1.1.1.1", "::1"}, DNSSearch: []string{"x.y"}, DNSOptions: []string{"ndots:2"}}, "search x.y\nnameserver 1.1.1.1\nnameserver ::1\noptions ndots:2\n"},
	} {
		if got := resolvConf(host, tc.names); got != tc.want {
			t.Errorf("%+v:\ngot  %q\nwant %q", tc.names, got, tc.want)
		}
	}
}

// TestEtcFilesNames: extra hosts follow Docker's own /etc/hosts, with
// either network (dockerd does not start from the host's file then);
// without settings the host's files are used as they are.
// TestOffHostResolvConf: the cases as dockerd 20.10 writes them for a
// container on network none (checked by hand against it, with the host's
// file bind-mounted in its mount namespace).
func TestOffHostResolvConf(t *testing.T) {
	google := "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
	for _, tc := range []struct{ host, want string }{
		{"nameserver 10.0.0.1\nsearch a.example\n", "nameserver 10.0.0.1\nsearch a.example\n"},
		{"# test\nnameserver 127.0.0.1\nnameserver 10.1.1.1\nnameserver ::1\noptions edns0\nsearch example.org\n", "# test\nnameserver 10.1.1.1\noptions edns0\nsearch example.org\n"},
		{"# test\nnameserver 127.0.0.1\noptions edns0\nsearch example.org", "# test\noptions edns0\nsearch example.org\n" + google},
		{"nameserver fd00::53\nnameserver 10.1.1.1\n", "nameserver 10.1.1.1\n"},
		{"nameserver fd00::53\n", google},
		{"", google},
	} {
		if got := offHostResolvConf(tc.host); got != tc.want {
			t.Errorf("%q:\ngot  %q\nwant %q", tc.host, got, tc.want)
		}
	}
}

func TestEtcFilesNames(t *testing.T) {
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	for _, network := range []string{NetworkNone, NetworkHost} {
		files, err := EtcFiles("web1", network, Names{ExtraHosts: []string{"db:10.1.2.3", "v6:fd00::1"}, DNS: []string{"1.1.1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if want := dockerHosts + "10.1.2.3\tdb\nfd00::1\tv6\n"; files[1].Data != want {
			t.Errorf("%s: /etc/hosts %q, want %q", network, files[1].Data, want)
		}
		if !strings.Contains(files[2].Data, "nameserver 1.1.1.1\n") || strings.Count(files[2].Data, "nameserver") != 1 {
			t.Errorf("%s: /etc/resolv.conf %q", network, files[2].Data)
		}
	}
	files, err := EtcFiles("web1", NetworkNone, Names{})
	if err != nil || files[1].Data != dockerHosts || files[2].Data != offHostResolvConf(string(hostResolv)) {
		t.Fatalf("no settings: %v %q %q", err, files[1].Data, files[2].Data)
	}
	files, err = EtcFiles("web1", NetworkHost, Names{})
	if err != nil || files[2].Data != string(hostResolv) {
		t.Fatalf("network host, no settings: %v %q, want the host's resolv.conf as it is", err, files[2].Data)
	}
}
