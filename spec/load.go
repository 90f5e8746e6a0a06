package spec

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads manifests from files, folders (their *.yaml, *.yml and
// *.json files; with recursive, those of subfolders too, except hidden
// ones) and "-" (stdin), decodes each file and checks the whole set. The
// error is an ErrorList with every problem in every file, in file order;
// the valid objects are returned beside it.
func Load(paths []string, recursive bool, stdin io.Reader) ([]Object, error) {
	files, errs := ExpandPaths(paths, recursive)
	var objs, partial []Object
	for _, f := range files {
		var data []byte
		var err error
		if f == "-" {
			if stdin == nil {
				stdin = os.Stdin
			}
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			errs = append(errs, &FieldError{Source: Source{File: f}, Detail: readError(err)})
			continue
		}
		d := decodeFile(f, data)
		objs = append(objs, d.objects...)
		partial = append(partial, d.partial...)
		errs = append(errs, d.errs...)
	}
	errs = append(errs, check(objs, partial)...)
	order := map[string]int{}
	for i, f := range files {
		order[f] = i
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Source, errs[j].Source
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		if a.Document != b.Document {
			return a.Document < b.Document
		}
		return a.Line < b.Line
	})
	return objs, errs.orNil()
}

// ExpandPaths lists the manifest files named by paths, in a stable order:
// files as given (whatever their extension), "-" as is, folders by their
// *.yaml, *.yml and *.json files sorted by name, recursing into
// non-hidden subfolders if recursive. A missing path, or a folder with no
// manifests, is an error.
func ExpandPaths(paths []string, recursive bool) ([]string, ErrorList) {
	var files []string
	var errs ErrorList
	fail := func(p, detail string) {
		errs = append(errs, &FieldError{Source: Source{File: p}, Detail: detail})
	}
	stdin := false
	for _, p := range paths {
		if p == "-" {
			if stdin {
				fail(p, "stdin can be read only once")
			}
			stdin = true
			files = append(files, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			fail(p, readError(err))
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := manifestsIn(p, recursive)
		if err != nil {
			fail(p, readError(err))
			continue
		}
		if len(found) == 0 {
			hint := ""
			if !recursive {
				hint = " (add -R to include subfolders)"
			}
			fail(p, "no .yaml, .yml or .json files in this folder"+hint)
		}
		files = append(files, found...)
	}
	return files, errs
}

func manifestsIn(dir string, recursive bool) ([]string, error) {
	ignore, err := LoadIgnore(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (!recursive || strings.HasPrefix(d.Name(), ".") || ignore.Ignored(p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if IsManifestFile(p) && !ignore.Ignored(p) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// IsManifestFile reports whether a file in a folder is read as a manifest:
// a non-hidden *.yaml, *.yml or *.json file.
func IsManifestFile(path string) bool {
	name := filepath.Base(path)
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// readError words a file system error without repeating the path.
func readError(err error) string {
	var pe *fs.PathError
	if e, ok := err.(*fs.PathError); ok {
		pe = e
	}
	switch {
	case os.IsNotExist(err):
		return "no such file or folder"
	case os.IsPermission(err):
		return "permission denied"
	case pe != nil:
		return fmt.Sprintf("cannot read: %v", pe.Err)
	}
	return fmt.Sprintf("cannot read: %v", err)
}
