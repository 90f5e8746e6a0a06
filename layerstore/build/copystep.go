package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// copyFlags are the options COPY and ADD share.
type copyFlags struct {
	add     bool // ADD: extract local archives
	from    string
	chown   string
	chmod   string
	exclude []string
	parents bool
}

// copy runs COPY or ADD: it plans the layer, keys the cache on the plan's
// digest (file contents and metadata), and writes the layer on a miss.
func (b *builder) copy(ctx context.Context, st *stage, cmd instructions.Command, sd instructions.SourcesAndDest, fl copyFlags) error {
	instr := strings.ToUpper(cmd.Name())
	if len(fl.exclude) > 0 || fl.parents {
		return fmt.Errorf("%s --exclude and --parents are not supported by this builder; use .dockerignore or separate %s lines", instr, instr)
	}
	dst, err := b.tree(st.img)
	if err != nil {
		return err
	}
	spec := copySpec{instr: instr, srcs: sd.SourcePaths, dest: st.absPath(sd.DestPath), add: fl.add}
	for _, c := range sd.SourceContents {
		spec.inline = append(spec.inline, inlineFile{name: c.Path, data: c.Data})
	}
	if spec.from, spec.fromName, err = b.copySource(st, fl.from); err != nil {
		return err
	}
	spec.fromCtx = fl.from == ""
	if fl.chown != "" {
		if spec.chown, err = parseChown(fl.chown, dst); err != nil {
			return err
		}
	}
	if fl.chmod != "" {
		m, err := strconv.ParseUint(fl.chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return fmt.Errorf("--chmod=%s: want an octal mode such as 0755", fl.chmod)
		}
		mode := fs.FileMode(m)
		spec.chmod = &mode
	}
	p, err := planCopy(spec, dst)
	if err != nil {
		return err
	}
	inputs, err := p.digest()
	if err != nil {
		return err
	}
	return b.commit(ctx, st, cmd, change{
		inputs:    inputs,
		layer:     func(_ context.Context, w io.Writer) error { return p.writeTar(w) },
		createdBy: fmt.Sprintf("/bin/sh -c #(nop) %s %s in %s", instr, inputs, spec.dest),
	})
}

// copySource is the tree COPY reads: the build context, an earlier stage
// (by name or number) or a local image.
func (b *builder) copySource(st *stage, from string) (tree, string, error) {
	if from == "" {
		return b.df.context, "build context", nil
	}
	if i, ok := b.df.stageIndex(from, st.index); ok {
		t, err := b.tree(b.results[i].img)
		return t, "stage " + from, err
	}
	if _, ok := instructions.HasStage(b.df.stages, from); ok {
		return nil, "", fmt.Errorf("--from=%s names this stage or a later one; COPY --from can only read earlier stages", from)
	}
	img, err := b.s.Resolve(from)
	if err != nil {
		return nil, "", fmt.Errorf("--from=%s: no earlier build stage or local image has that name: build, pull or load it first (%w)", from, err)
	}
	t, err := b.tree(img)
	return t, "image " + from, err
}

// parseChown resolves --chown=user[:group] with the image's /etc/passwd and
// /etc/group; a lone numeric user also sets the group to that number, as in
// Docker.
func parseChown(spec string, t tree) (*owner, error) {
	user, group, hasGroup := strings.Cut(spec, ":")
	o := &owner{}
	if uid, err := strconv.Atoi(user); err == nil {
		o.uid, o.gid = uid, uid
	} else {
		ent, err := lookupDB(t, "etc/passwd", user)
		if err != nil {
			return nil, fmt.Errorf("--chown=%s: unable to find user %s: %w", spec, user, err)
		}
		if o.uid, err = strconv.Atoi(ent[2]); err == nil {
			o.gid, err = strconv.Atoi(ent[3])
		}
		if err != nil {
			return nil, fmt.Errorf("--chown=%s: bad /etc/passwd entry for %s", spec, user)
		}
	}
	if !hasGroup {
		return o, nil
	}
	if gid, err := strconv.Atoi(group); err == nil {
		o.gid = gid
		return o, nil
	}
	ent, err := lookupDB(t, "etc/group", group)
	if err != nil {
		return nil, fmt.Errorf("--chown=%s: unable to find group %s: %w", spec, group, err)
	}
	if o.gid, err = strconv.Atoi(ent[2]); err != nil {
		return nil, fmt.Errorf("--chown=%s: bad /etc/group entry for %s", spec, group)
	}
	return o, nil
}

// lookupDB finds the colon-separated entry called name in an /etc database
// file of the image.
func lookupDB(t tree, file, name string) ([]string, error) {
	_, n, err := resolve(t, file, true)
	if err != nil {
		return nil, fmt.Errorf("the image has no /%s", file)
	}
	f, err := os.Open(n.host)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ent := strings.Split(sc.Text(), ":")
		if len(ent) >= 3 && ent[0] == name && (file != "etc/passwd" || len(ent) >= 4) {
			return ent, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("no matching entries in /" + file)
}
