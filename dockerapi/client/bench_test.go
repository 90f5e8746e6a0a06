package client

import (
	"context"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/engine"
)

// BenchmarkContainersByLabel is the controller's most frequent call (list
// by labels, then inspect each) against our server over a fake engine
// with 20 containers, over the unix socket and over mutual TLS.
func BenchmarkContainersByLabel(b *testing.B) {
	dir := b.TempDir()
	if err := certs.Init(dir, certs.InitOptions{}); err != nil {
		b.Fatal(err)
	}
	_, unixAddr, tlsAddr := serveFake(b, dir)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		e, _ := Open(unixAddr, nil, 5*time.Second)
		id, err := e.CreateContainer(ctx, engine.ContainerConfig{Image: "busybox:local", Cmd: []string{"sleep", "300"},
			Labels: map[string]string{engine.LabelManaged: "true"}})
		if err != nil {
			b.Fatal(err)
		}
		e.StartContainer(ctx, id)
	}
	p := func(n string) string { return dir + "/" + n }
	for name, open := range map[string]func() (*Engine, error){
		"unix": func() (*Engine, error) { return Open(unixAddr, nil, 5*time.Second) },
		"tls": func() (*Engine, error) {
			return Open(tlsAddr, &TLSFiles{CA: p(certs.CAFile), Cert: p(certs.ClientCertFile), Key: p(certs.ClientKeyFile)}, 5*time.Second)
		},
	} {
		b.Run(name, func(b *testing.B) {
			e, err := open()
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			for b.Loop() {
				cs, err := e.Containers(ctx, map[string]string{engine.LabelManaged: "true"})
				if err != nil || len(cs) != 20 {
					b.Fatalf("%d containers, %v", len(cs), err)
				}
			}
		})
	}
}
