package server

import (
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
)

func (s *Server) ping(w http.ResponseWriter, r *http.Request, _ params) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte("OK"))
	return err
}

func (s *Server) version(w http.ResponseWriter, r *http.Request, _ params) error {
	kernel := kernelVersion()
	details := map[string]string{
		"ApiVersion": s.cfg.APIVersion, "MinAPIVersion": s.cfg.MinAPIVersion, "Arch": runtime.GOARCH,
		"Os": runtime.GOOS, "GoVersion": runtime.Version(), "KernelVersion": kernel, "Experimental": "false",
	}
	writeJSON(w, http.StatusOK, system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "Reconciler Engine"},
		Components:    []system.ComponentVersion{{Name: "Engine", Version: s.cfg.Version, Details: details}},
		Version:       s.cfg.Version,
		APIVersion:    s.cfg.APIVersion,
		MinAPIVersion: s.cfg.MinAPIVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GoVersion:     runtime.Version(),
		KernelVersion: kernel,
	})
	return nil
}

func (s *Server) info(w http.ResponseWriter, r *http.Request, _ params) error {
	info, err := s.backend.Info(r.Context())
	if err != nil {
		return err
	}
	s.fillInfo(&info)
	writeJSON(w, http.StatusOK, info)
	return nil
}

// fillInfo completes the machine facts a backend left zero.
func (s *Server) fillInfo(i *system.Info) {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	host, _ := os.Hostname()
	set(&i.Name, host)
	set(&i.ID, host)
	set(&i.ServerVersion, s.cfg.Version)
	set(&i.OSType, runtime.GOOS)
	set(&i.Architecture, machine())
	set(&i.KernelVersion, kernelVersion())
	set(&i.OperatingSystem, osRelease())
	set(&i.DockerRootDir, s.cfg.Root)
	set(&i.SystemTime, time.Now().Format(time.RFC3339Nano))
	set(&i.IndexServerAddress, "https://index.docker.io/v1/")
	set((*string)(&i.Swarm.LocalNodeState), string(swarm.LocalNodeStateInactive))
	if i.NCPU == 0 {
		i.NCPU = runtime.NumCPU()
	}
	if i.MemTotal == 0 {
		i.MemTotal = memTotal()
	}
	if i.NGoroutines == 0 {
		i.NGoroutines = runtime.NumGoroutine()
	}
	s.mu.Lock()
	i.Warnings = append(i.Warnings, s.warnings...)
	s.mu.Unlock()
	if i.Warnings == nil {
		i.Warnings = []string{}
	}
}

func (s *Server) diskUsage(w http.ResponseWriter, r *http.Request, _ params) error {
	du, err := s.backend.DiskUsage(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, du)
	return nil
}

// legacyEvent adds the pre-1.22 fields dockerd still sent at 1.41
// (status, id, from) for container and image events.
type legacyEvent struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

func toLegacy(m events.Message) legacyEvent {
	e := legacyEvent{Message: m}
	if m.Type == events.ContainerEventType || m.Type == events.ImageEventType {
		e.Status, e.ID = string(m.Action), m.Actor.ID
		e.From = m.Actor.Attributes["image"]
	}
	return e
}

// parseTimestamp reads Docker's "seconds[.nanoseconds]" or RFC 3339.
func parseTimestamp(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, errorf("invalid timestamp %q: want unix seconds or RFC 3339", v)
	}
	var nanos int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if nanos, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, errorf("invalid timestamp %q", v)
		}
	}
	return time.Unix(secs, nanos), nil
}

// events streams matching events: the retained ones since `since`, then
// live ones until `until` (or until the client goes away). Headers are
// sent at once, before any event exists.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ params) error {
	q := r.URL.Query()
	since, err := parseTimestamp(q.Get("since"))
	if err != nil {
		return err
	}
	until, err := parseTimestamp(q.Get("until"))
	if err != nil {
		return err
	}
	f, err := filters(r)
	if err != nil {
		return err
	}
	if err := f.Validate("type", "event", "container", "image", "volume", "label", "label!", "scope", "network", "daemon", "plugin"); err != nil {
		return err
	}
	ctx, cancelCtx := s.streamCtx(r)
	defer cancelCtx()
	past, live, cancel := s.backend.SubscribeEvents(since)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	enc := json.NewEncoder(w)
	send := func(m events.Message) error {
		if !f.MatchEvent(m) {
			return nil
		}
		if err := enc.Encode(toLegacy(m)); err != nil {
			return err
		}
		flush(w)
		return nil
	}
	for _, m := range past {
		if !until.IsZero() && m.TimeNano > until.UnixNano() {
			return nil
		}
		if err := send(m); err != nil {
			return nil
		}
	}
	var deadline <-chan time.Time
	if !until.IsZero() {
		d := time.Until(until)
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case m, ok := <-live:
			if !ok {
				return nil
			}
			if since.IsZero() || m.TimeNano >= since.UnixNano() {
				if err := send(m); err != nil {
					return nil
				}
			}
		}
	}
}
