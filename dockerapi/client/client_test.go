package client

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/dockerapi/fakebackend"
	"github.com/reconciler/reconciler/dockerapi/listen"
	"github.com/reconciler/reconciler/dockerapi/server"
	"github.com/reconciler/reconciler/engine"
)

// serveFakeServer serves a fake engine on a unix socket and returns the
// server, to stop it.
func serveFakeServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(server.Config{Backend: fakebackend.New(t.TempDir()), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := listen.Listen("unix://"+sock, listen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv, "unix://" + sock
}

// serveFake serves a fake engine on a unix socket (and, with tlsDir, on a
// mutual-TLS loopback port); it returns both addresses.
func serveFake(t testing.TB, tlsDir string) (fake *fakebackend.Backend, unixAddr, tlsAddr string) {
	t.Helper()
	fake = fakebackend.New(t.TempDir())
	if _, err := fake.ImageImport(context.Background(), strings.NewReader("rootfs"), dockerapi.ImportOptions{Repo: "busybox", Tag: "local"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Backend: fake, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := listen.Listen("unix://"+sock, listen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	if tlsDir != "" {
		p := func(n string) string { return filepath.Join(tlsDir, n) }
		cfg, err := certs.ServerConfig(p(certs.CAFile), p(certs.ServerCertFile), p(certs.ServerKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		tl, err := listen.Listen("tcp://127.0.0.1:0", listen.Options{TLS: cfg})
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(tl)
		tlsAddr = "tcp://" + tl.Addr().String()
	}
	return fake, "unix://" + sock, tlsAddr
}

func TestEngineOverOurServer(t *testing.T) {
	fake, addr, _ := serveFake(t, "")
	e, err := Open(addr, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	evs, _ := e.Events(evCtx)

	labels := map[string]string{engine.LabelManaged: "true", engine.LabelName: "web"}
	id, err := e.CreateContainer(ctx, engine.ContainerConfig{
		Name: "web", Image: "busybox:local", Cmd: []string{"sleep", "30"}, Env: []string{"PORT=8080"}, Labels: labels,
		Mounts:    []engine.Mount{{Type: engine.MountVolume, Source: "data", Target: "/data"}},
		Restart:   engine.RestartPolicy{Name: "on-failure", MaxRetries: 3},
		Resources: engine.Resources{MemoryBytes: 64 << 20, NanoCPUs: 5e8, PidsLimit: 128},
		StopGrace: 3 * time.Second, StopSignal: "SIGTERM", Hostname: "web-1", WorkingDir: "/srv", User: "1000:1000",
		Entrypoint: []string{"/bin/sh", "-c"}, OpenStdin: true, StdinOnce: true, Tty: true, ConsoleSize: [2]uint{24, 80},
		ReadonlyRootfs: true, ShmSize: 1 << 20, Ulimits: []engine.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}}, CapDrop: []string{"NET_RAW"},
		ExtraHosts: []string{"db:10.0.0.5", "six:::1"}, DNS: []string{"10.0.0.53"}, DNSSearch: []string{"svc.example"}, DNSOptions: []string{"ndots:2"},
		Init: true, OOMScoreAdj: 500, LogOptions: map[string]string{"max-size": "1m", "max-file": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := fake.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	h := ins.HostConfig
	if h.RestartPolicy.Name != "on-failure" || h.RestartPolicy.MaximumRetryCount != 3 || h.Memory != 64<<20 || h.NanoCPUs != 5e8 ||
		h.PidsLimit == nil || *h.PidsLimit != 128 || len(h.Mounts) != 1 || h.Mounts[0].Source != "data" || h.NetworkMode != "none" {
		t.Errorf("host config sent: %+v", h)
	}
	if !h.ReadonlyRootfs || h.ShmSize != 1<<20 || len(h.Ulimits) != 1 || *h.Ulimits[0] != (container.Ulimit{Name: "nofile", Soft: 100, Hard: 200}) ||
		len(h.CapDrop) != 1 || h.CapDrop[0] != "CAP_NET_RAW" { // the API client normalises names
		t.Errorf("read-only, shm size, ulimits, cap-drop sent: %v %v %v %v", h.ReadonlyRootfs, h.ShmSize, h.Ulimits, h.CapDrop)
	}
	if !slices.Equal(h.ExtraHosts, []string{"db:10.0.0.5", "six:::1"}) || len(h.DNS) != 1 || h.DNS[0].String() != "10.0.0.53" ||
		!slices.Equal(h.DNSSearch, []string{"svc.example"}) || !slices.Equal(h.DNSOptions, []string{"ndots:2"}) {
		t.Errorf("extra hosts and dns sent: %v %v %v %v", h.ExtraHosts, h.DNS, h.DNSSearch, h.DNSOptions)
	}
	if h.Init == nil || !*h.Init || h.OomScoreAdj != 500 || h.LogConfig.Config["max-size"] != "1m" || h.LogConfig.Config["max-file"] != "2" {
		t.Errorf("init, oom score adj, log options sent: %v %v %v", h.Init, h.OomScoreAdj, h.LogConfig)
	}
	if ins.Config.StopTimeout == nil || *ins.Config.StopTimeout != 3 {
		t.Errorf("stop timeout: %v", ins.Config.StopTimeout)
	}
	if c := ins.Config; !c.OpenStdin || !c.StdinOnce || !c.AttachStdin || !c.Tty || h.ConsoleSize != [2]uint{24, 80} {
		t.Errorf("stdin/terminal sent: OpenStdin=%v StdinOnce=%v AttachStdin=%v Tty=%v ConsoleSize=%v", c.OpenStdin, c.StdinOnce, c.AttachStdin, c.Tty, h.ConsoleSize)
	}
	if c := ins.Config; c.StopSignal != "SIGTERM" || c.Hostname != "web-1" || c.WorkingDir != "/srv" || c.User != "1000:1000" ||
		strings.Join(c.Entrypoint, " ") != "/bin/sh -c" || strings.Join(c.Cmd, " ") != "sleep 30" || !slices.Contains(c.Env, "PORT=8080") {
		t.Errorf("config sent: %+v", c)
	}
	if _, err := e.CreateContainer(ctx, engine.ContainerConfig{Name: "web", Image: "busybox:local"}); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("name conflict: %v", err)
	}
	if _, err := e.CreateContainer(ctx, engine.ContainerConfig{Name: "x1", Image: "nosuch:1"}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("missing image: %v", err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	list, err := e.Containers(ctx, map[string]string{engine.LabelName: "web"})
	if err != nil || len(list) != 1 || list[0].State != engine.StateRunning || list[0].Name != "web" || list[0].Labels[engine.LabelManaged] != "true" || list[0].Started.IsZero() {
		t.Fatalf("Containers: %+v %v", list, err)
	}
	if other, _ := e.Containers(ctx, map[string]string{engine.LabelName: "db"}); len(other) != 0 {
		t.Errorf("label filter: %+v", other)
	}
	if err := e.RemoveVolume(ctx, "data"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("remove volume in use: %v", err)
	}
	if err := e.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.Containers(ctx, labels); len(list) != 1 || list[0].State != engine.StateExited || list[0].ExitCode != 143 {
		t.Errorf("after stop: %+v", list)
	}
	if err := e.RemoveContainer(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveContainer(ctx, id, false); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}

	v, err := e.EnsureVolume(ctx, engine.VolumeConfig{Name: "cache", Labels: labels})
	if err != nil || v.Name != "cache" || v.Labels[engine.LabelName] != "web" {
		t.Fatalf("EnsureVolume: %+v %v", v, err)
	}
	if v2, err := e.EnsureVolume(ctx, engine.VolumeConfig{Name: "cache", Labels: map[string]string{"other": "x"}}); err != nil || v2.Labels["other"] != "" {
		t.Errorf("EnsureVolume on existing changed it: %+v %v", v2, err)
	}
	if vols, _ := e.Volumes(ctx, labels); len(vols) != 1 || vols[0].Name != "cache" {
		t.Errorf("Volumes: %+v", vols)
	}
	if err := e.RemoveVolume(ctx, "cache"); err != nil {
		t.Fatal(err)
	}

	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	writeFile(t, rootfs, tarOf(t, "hello.txt", "hi"))
	imp, err := e.EnsureImage(ctx, engine.ImageSource{Tag: "imported:2", Import: &engine.ImportSource{Path: rootfs}}, nil)
	if err != nil || imp.RepoTags[0] != "imported:2" {
		t.Errorf("EnsureImage import through our server: %+v %v", imp, err)
	}
	bctx := t.TempDir()
	writeFile(t, filepath.Join(bctx, "Dockerfile"), []byte("FROM imported:2\nCMD [\"echo\"]\n"))
	var progress strings.Builder
	built, err := e.EnsureImage(ctx, engine.ImageSource{Tag: "built:1", Labels: map[string]string{"k": "v"}, Build: &engine.BuildSource{Context: bctx}}, &progress)
	if err != nil || built.Labels["k"] != "v" || !strings.Contains(progress.String(), "Step 1/2 : FROM imported:2") {
		t.Errorf("EnsureImage build through our server: %+v %v %q", built, err, progress.String())
	}

	img, err := e.InspectImage(ctx, "busybox:local")
	if err != nil || !strings.HasPrefix(img.ID, "sha256:") || img.RepoTags[0] != "busybox:local" {
		t.Errorf("InspectImage: %+v %v", img, err)
	}
	if _, err := e.InspectImage(ctx, "nosuch:1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("InspectImage missing: %v", err)
	}

	want := []string{"container create web", "container start web", "container die web", "container destroy web"}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < len(want) {
		select {
		case ev := <-evs:
			if ev.Type == engine.EventContainer {
				got = append(got, ev.Type+" "+ev.Action+" "+ev.Attributes["name"])
				if ev.Labels[engine.LabelManaged] != "true" || ev.Time.IsZero() {
					t.Errorf("event without labels or time: %+v", ev)
				}
			}
		case <-timeout:
			t.Fatalf("events: got %v, want %v", got, want)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestTLSRefusals: a 2376-style listener of ours refuses a client without
// a certificate, with one from another CA and with an expired one; a wrong
// CA on the client side is named as such. Nothing falls back to plain TCP.
func TestTLSRefusals(t *testing.T) {
	dir := t.TempDir()
	if err := certs.Init(dir, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, addr := serveFake(t, dir)
	p := func(n string) string { return filepath.Join(dir, n) }
	ctx := context.Background()

	good, err := Open(addr, &TLSFiles{CA: p(certs.CAFile), Cert: p(certs.ClientCertFile), Key: p(certs.ClientKeyFile)}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Ping(ctx); err != nil {
		t.Fatalf("valid certificate: %v", err)
	}
	if _, err := good.Containers(ctx, nil); err != nil {
		t.Fatalf("valid certificate: %v", err)
	}

	if _, err := New(addr, &TLSFiles{CA: p(certs.CAFile)}, time.Second); !errors.Is(err, certs.ErrNoClientCert) && !strings.Contains(fmtErr(err), "client certificate") {
		t.Errorf("no client certificate: %v", err)
	}
	plain, _ := Open(addr, nil, 2*time.Second)
	if err := plain.Ping(ctx); err == nil || !strings.Contains(err.Error(), "the server speaks TLS") {
		t.Errorf("plain HTTP client against the TLS listener: %v", err)
	}

	other := t.TempDir()
	if err := certs.Init(other, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	o := func(n string) string { return filepath.Join(other, n) }
	foreign, _ := Open(addr, &TLSFiles{CA: p(certs.CAFile), Cert: o(certs.ClientCertFile), Key: o(certs.ClientKeyFile)}, 2*time.Second)
	err = foreign.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "refused our client certificate") {
		t.Errorf("certificate from another CA: %v", err)
	}
	wrongCA, _ := Open(addr, &TLSFiles{CA: o(certs.CAFile), Cert: p(certs.ClientCertFile), Key: p(certs.ClientKeyFile)}, 2*time.Second)
	err = wrongCA.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "not signed by the CA") {
		t.Errorf("wrong CA: %v", err)
	}

	ca, err := certs.LoadAuthority(p(certs.CAFile), p(certs.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueClient("old", certs.Validity{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	exp := t.TempDir()
	writeFile(t, filepath.Join(exp, "cert.pem"), certPEM)
	writeFile(t, filepath.Join(exp, "key.pem"), keyPEM)
	expired, _ := Open(addr, &TLSFiles{CA: p(certs.CAFile), Cert: filepath.Join(exp, "cert.pem"), Key: filepath.Join(exp, "key.pem")}, 2*time.Second)
	err = expired.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "refused our client certificate") {
		t.Errorf("expired certificate: %v", err)
	}
	if _, err := New("unix:///x.sock", &TLSFiles{CA: p(certs.CAFile), Cert: p(certs.ClientCertFile), Key: p(certs.ClientKeyFile)}, time.Second); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("TLS on a unix socket: %v", err)
	}
}

// TestUnreachableEngine: a refused or dropped connection is
// engine.ErrUnavailable (retry later), not a failure of the object.
func TestUnreachableEngine(t *testing.T) {
	ctx := context.Background()
	gone, err := Open("unix://"+filepath.Join(t.TempDir(), "nobody.sock"), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.Containers(ctx, nil); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("missing socket: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + l.Addr().String()
	l.Close()
	refused, _ := Open(addr, nil, time.Second)
	if err := refused.Ping(ctx); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("refused port: %v", err)
	}
	_, sock, _ := serveFake(t, "")
	up, _ := Open(sock, nil, time.Second)
	if _, err := up.InspectImage(ctx, "nosuch:1"); errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("an answer counted as unavailable: %v", err)
	}
}

// TestEventsStreamLoss: when the engine goes away, Events reports
// ErrUnavailable and closes, so the caller resubscribes later.
func TestEventsStreamLoss(t *testing.T) {
	srv, sock := serveFakeServer(t)
	e, _ := Open(sock, nil, time.Second)
	evs, errs := e.Events(context.Background())
	if err := e.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the stream connect
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	select {
	case err := <-errs:
		if !errors.Is(err, engine.ErrUnavailable) {
			t.Errorf("stream loss: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no error after the engine went away")
	}
	if _, ok := <-evs; ok {
		t.Error("events channel not closed")
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
