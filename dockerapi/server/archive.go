package server

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
)

// The container file system endpoints: docker diff, cp and export.

func (s *Server) containerChanges(w http.ResponseWriter, r *http.Request, p params) error {
	changes, err := s.backend.ContainerChanges(r.Context(), p["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, changes) // null when nothing changed, as dockerd
	return nil
}

// pathStatHeader carries a path's stat on HEAD and GET of the archive:
// base64 of its JSON, with Go's os.FileMode bits (docker cp reads them).
const pathStatHeader = "X-Docker-Container-Path-Stat"

func setPathStat(w http.ResponseWriter, st container.PathStat) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	return nil
}

func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", errorf("path is required: archive?path=PATH")
	}
	return p, nil
}

// containerArchive serves HEAD (stat only) and GET (tar of the path).
func (s *Server) containerArchive(w http.ResponseWriter, r *http.Request, p params) error {
	path, err := archivePath(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		st, err := s.backend.ContainerStatPath(r.Context(), p["id"], path)
		if err != nil {
			return err
		}
		if err := setPathStat(w, st); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	rc, st, err := s.backend.ContainerArchivePath(r.Context(), p["id"], path)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := setPathStat(w, st); err != nil {
		return err
	}
	sendTar(w, rc)
	return nil
}

// containerExtract serves PUT: the body is a tar (labelled text/plain by
// the CLI: the Content-Type is not looked at).
func (s *Server) containerExtract(w http.ResponseWriter, r *http.Request, p params) error {
	path, err := archivePath(r)
	if err != nil {
		return err
	}
	opts := dockerapi.ExtractOptions{NoOverwriteDirNonDir: boolValue(r, "noOverwriteDirNonDir"), CopyUIDGID: boolValue(r, "copyUIDGID")}
	if err := s.backend.ContainerExtractToDir(r.Context(), p["id"], path, r.Body, opts); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) containerExport(w http.ResponseWriter, r *http.Request, p params) error {
	rc, err := s.backend.ContainerExport(r.Context(), p["id"])
	if err != nil {
		return err
	}
	defer rc.Close()
	sendTar(w, rc)
	return nil
}

// sendTar streams a tar with status 200. A failure once the body started
// aborts the connection, so the client sees a broken transfer rather
// than a short archive that looks complete.
func sendTar(w http.ResponseWriter, rc io.Reader) {
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		panic(http.ErrAbortHandler)
	}
}
