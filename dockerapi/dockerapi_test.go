package dockerapi

import (
	"errors"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/engine"
)

func TestParseFiltersBothForms(t *testing.T) {
	for _, s := range []string{`{"label":{"a=b":true,"c":true}}`, `{"label":["a=b","c"]}`} {
		f, err := ParseFilters(s)
		if err != nil {
			t.Fatal(err)
		}
		if !f.MatchLabels(map[string]string{"a": "b", "c": "x"}) || f.MatchLabels(map[string]string{"a": "x", "c": ""}) || f.MatchLabels(map[string]string{"a": "b"}) {
			t.Errorf("%s: label matching wrong", s)
		}
	}
	if _, err := ParseFilters("{"); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("bad JSON: %v", err)
	}
	f, _ := ParseFilters(`{"nope":{"x":true}}`)
	if err := f.Validate("label"); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("Validate: %v", err)
	}
	if got := (Filters{}).Add("label", "a=b").String(); got != `{"label":{"a=b":true}}` {
		t.Errorf("String: %s", got)
	}
}

func TestMatchEvent(t *testing.T) {
	m := events.Message{Type: events.ContainerEventType, Action: "exec_start: echo hi", Scope: "local",
		Actor: events.Actor{ID: "abcdef", Attributes: map[string]string{"name": "web", "image": "busybox", "app": "shop"}}}
	for s, want := range map[string]bool{
		`{"type":{"container":true}}`:   true,
		`{"type":{"volume":true}}`:      false,
		`{"event":{"exec_start":true}}`: true,
		`{"event":{"start":true}}`:      false,
		`{"container":{"web":true}}`:    true,
		`{"container":{"abc":true}}`:    true,
		`{"container":{"db":true}}`:     false,
		`{"label":{"app=shop":true}}`:   true,
		`{"image":{"busybox":true}}`:    true,
	} {
		f, _ := ParseFilters(s)
		if got := f.MatchEvent(m); got != want {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
}

func TestEventBusReplayAndLive(t *testing.T) {
	b := NewEventBus(2)
	t0 := time.Now()
	for _, id := range []string{"a", "b", "c"} {
		b.Publish(events.Message{Type: events.VolumeEventType, Action: events.ActionCreate, Actor: events.Actor{ID: id}})
	}
	past, live, cancel := b.SubscribeEvents(t0)
	if len(past) != 2 || past[0].Actor.ID != "b" || past[1].Scope != "local" || past[1].TimeNano == 0 {
		t.Errorf("past: %+v", past)
	}
	b.Publish(events.Message{Type: events.VolumeEventType, Action: events.ActionDestroy, Actor: events.Actor{ID: "d"}})
	if m := <-live; m.Actor.ID != "d" {
		t.Errorf("live: %+v", m)
	}
	if b.Subscribers() != 1 {
		t.Error("subscriber not counted")
	}
	cancel()
	cancel()
	if _, ok := <-live; ok || b.Subscribers() != 0 {
		t.Error("cancel did not close the subscription")
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io/library/mini:1": "mini:1", "mini": "mini:latest", "localhost:5000/foo/mini": "localhost:5000/foo/mini:latest",
		"docker.io/foo/bar:2": "foo/bar:2", "sha256:abc": "sha256:abc",
	} {
		if got := FamiliarRef(in); got != want {
			t.Errorf("FamiliarRef(%s) = %s, want %s", in, got, want)
		}
	}
	if got := JoinRef("docker.io/library/mini", "2"); got != "mini:2" {
		t.Errorf("JoinRef = %s", got)
	}
	if got := JoinRef("imported:1", ""); got != "imported:1" {
		t.Errorf("JoinRef with tag in repo = %s", got)
	}
	now := time.Now()
	if got := ContainerStatus("exited", 3, now.Add(-time.Hour), now.Add(-3*time.Second), now); got != "Exited (3) 3 seconds ago" {
		t.Errorf("status %q", got)
	}
	if got := ContainerStatus("running", 0, now.Add(-90*time.Second), time.Time{}, now); got != "Up About a minute" {
		t.Errorf("status %q", got)
	}
}
