package listen

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// A Dial reaches Accept through a socket pair that carries bytes both
// ways and half-closes; after Close, Accept and Dial fail with
// net.ErrClosed.
func TestPairs(t *testing.T) {
	p := NewPairs()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := p.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := p.DialContext(context.Background(), "unix", "")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	defer server.Close()
	io.WriteString(client, "ping")
	client.(*net.UnixConn).CloseWrite()
	got, err := io.ReadAll(server)
	if err != nil || string(got) != "ping" {
		t.Fatalf("server read %q, %v; want ping and EOF", got, err)
	}
	io.WriteString(server, "pong")
	server.Close()
	got, err = io.ReadAll(client)
	if err != nil || string(got) != "pong" {
		t.Fatalf("client read %q, %v; want pong and EOF", got, err)
	}

	p.Close()
	if _, err := p.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.DialContext(ctx, "unix", ""); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close: %v", err)
	}
}
