package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/image"

	"github.com/reconciler/reconciler/dockerapi"
)

func (s *Server) imageList(w http.ResponseWriter, r *http.Request, _ params) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.backend.ImageList(r.Context(), dockerapi.ImageListOptions{All: boolValue(r, "all"), Filters: f})
	if err != nil {
		return err
	}
	if list == nil {
		list = []image.Summary{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) imageHistory(w http.ResponseWriter, r *http.Request, p params) error {
	h, err := s.backend.ImageHistory(r.Context(), p["name"])
	if err != nil {
		return err
	}
	if h == nil {
		h = []image.HistoryResponseItem{}
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) imageTag(w http.ResponseWriter, r *http.Request, p params) error {
	repo := r.URL.Query().Get("repo")
	if repo == "" {
		return errorf("repository name must have at least one component: tag?repo=NAME")
	}
	if err := s.backend.ImageTag(r.Context(), p["name"], repo, r.URL.Query().Get("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) imageRemove(w http.ResponseWriter, r *http.Request, p params) error {
	out, err := s.backend.ImageRemove(r.Context(), p["name"], dockerapi.ImageRemoveOptions{Force: boolValue(r, "force"), NoPrune: boolValue(r, "noprune")})
	if err != nil {
		return err
	}
	if out == nil {
		out = []image.DeleteResponse{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) imagesPrune(w http.ResponseWriter, r *http.Request, _ params) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	rep, err := s.backend.ImagesPrune(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// jsonParam decodes a JSON-valued query parameter (buildargs, labels).
func jsonParam(r *http.Request, key string, v any) error {
	s := r.URL.Query().Get(key)
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return errorf("invalid %s %q: %v", key, s, err)
	}
	return nil
}

// shortID is the 12-hex form docker prints ("Successfully built ...").
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// build runs a Dockerfile build from the tar context in the body and
// streams its progress; the legacy builder's closing lines are added here.
func (s *Server) build(w http.ResponseWriter, r *http.Request, _ params) error {
	q := r.URL.Query()
	opts := dockerapi.BuildOptions{
		Tags: q["t"], Dockerfile: q.Get("dockerfile"), Target: q.Get("target"),
		NoCache: boolValue(r, "nocache"), Pull: boolValue(r, "pull"),
		Remove: boolDefault(r, "rm", true), Quiet: boolValue(r, "q"),
	}
	if err := jsonParam(r, "buildargs", &opts.BuildArgs); err != nil {
		return err
	}
	if err := jsonParam(r, "labels", &opts.Labels); err != nil {
		return err
	}
	out := newJSONStream(w)
	var progress io.Writer = out
	if opts.Quiet {
		progress = io.Discard
	}
	id, err := s.backend.ImageBuild(r.Context(), r.Body, opts, progress)
	if err != nil {
		return out.finish(err)
	}
	if opts.Quiet {
		fmt.Fprintf(out, "%s\n", id)
		return out.finish(nil)
	}
	out.send(map[string]any{"aux": map[string]string{"ID": id}})
	fmt.Fprintf(out, "Successfully built %s\n", shortID(id))
	for _, t := range opts.Tags {
		fmt.Fprintf(out, "Successfully tagged %s\n", t)
	}
	return out.finish(nil)
}

func (s *Server) imageLoad(w http.ResponseWriter, r *http.Request, _ params) error {
	out := newJSONStream(w)
	var progress io.Writer = out
	if boolValue(r, "quiet") {
		progress = io.Discard // as dockerd: only the "Loaded image" lines
	}
	loaded, err := s.backend.ImageLoad(r.Context(), r.Body, progress)
	if err != nil {
		return out.finish(err)
	}
	for _, name := range loaded {
		if strings.HasPrefix(name, "sha256:") {
			fmt.Fprintf(out, "Loaded image ID: %s\n", name)
		} else {
			fmt.Fprintf(out, "Loaded image: %s\n", name)
		}
	}
	return out.finish(nil)
}

// imageSave serves both GET /images/get?names=... and /images/{name}/get.
func (s *Server) imageSave(w http.ResponseWriter, r *http.Request, p params) error {
	refs := r.URL.Query()["names"]
	if p["name"] != "" {
		refs = []string{p["name"]}
	}
	if len(refs) == 0 {
		return errorf("no image names given: images/get?names=NAME")
	}
	// Once the archive started, an error can only be logged (by the caller)
	// and the client sees a truncated archive.
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	if err := s.backend.ImageSave(r.Context(), refs, lw); err != nil {
		return err
	}
	lw.Start()
	return nil
}

// imageCreate is pull (fromImage) or import (fromSrc=-, body = tar).
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request, _ params) error {
	q := r.URL.Query()
	out := newJSONStream(w)
	switch {
	case q.Get("fromImage") != "":
		ref := q.Get("fromImage")
		if tag := q.Get("tag"); tag != "" {
			sep := ":"
			if strings.Contains(tag, ":") {
				sep = "@" // a digest
			}
			ref += sep + tag
		}
		err := s.backend.ImagePull(r.Context(), ref, dockerapi.PullOptions{Platform: q.Get("platform"), RegistryAuth: r.Header.Get("X-Registry-Auth")}, out)
		return out.finish(err)
	case q.Get("fromSrc") == "-":
		id, err := s.backend.ImageImport(r.Context(), r.Body, dockerapi.ImportOptions{
			Repo: q.Get("repo"), Tag: q.Get("tag"), Message: q.Get("message"), Changes: q["changes"], Platform: q.Get("platform"),
		}, out)
		if err != nil {
			return out.finish(err)
		}
		out.send(map[string]string{"status": id})
		return out.finish(nil)
	case q.Get("fromSrc") != "":
		return errorf("importing from a URL (fromSrc=%s) is not supported: download it and import it from stdin (-)", q.Get("fromSrc"))
	default:
		return errorf("give fromImage (pull) or fromSrc=- (import)")
	}
}

func (s *Server) imagePush(w http.ResponseWriter, r *http.Request, p params) error {
	ref := p["name"]
	if tag := r.URL.Query().Get("tag"); tag != "" {
		ref += ":" + tag
	}
	out := newJSONStream(w)
	err := s.backend.ImagePush(r.Context(), ref, dockerapi.PushOptions{RegistryAuth: r.Header.Get("X-Registry-Auth")}, out)
	return out.finish(err)
}

// buildPrune is POST /build/prune (docker builder prune, and part of
// docker system prune): the engines keep no build cache apart from
// images (a build step's cache is its intermediate image, removed with
// the images built on it, as with dockerd's classic builder), so there
// is never anything to prune here.
func buildPrune(w http.ResponseWriter, _ *http.Request, _ params) error {
	writeJSON(w, http.StatusOK, build.CachePruneReport{})
	return nil
}
