package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/layerstore"
)

// defaultPath is the PATH of images built FROM scratch, as Docker sets it.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// builder is the state of one Build call.
type builder struct {
	s        *layerstore.Store
	opts     Options
	df       *dockerfile
	out      progress
	meta     args            // meta ARGs (before the first FROM) with their values
	declared map[string]bool // every ARG name seen, to warn about unused --build-arg
	results  []*stage        // finished stages, by index
}

// stage is the running state of one build stage.
type stage struct {
	index  int
	img    *layerstore.Image // nil until the first step of a FROM scratch stage
	cfg    ocispec.Image
	args   args
	shell  []string
	cmdSet bool // CMD was set in this stage (ENTRYPOINT then keeps it)
}

// Build runs the Dockerfile of opts in s and tags the result with
// opts.Tags. It returns the final image.
func Build(ctx context.Context, s *layerstore.Store, opts Options) (img *layerstore.Image, err error) {
	start := time.Now()
	defer func() {
		result := "success"
		if err != nil {
			result = "failure"
		}
		buildDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())
	}()
	tags, err := normalizeTags(opts.Tags)
	if err != nil {
		return nil, err
	}
	df, err := loadDockerfile(opts.ContextDir, opts.Dockerfile)
	if err != nil {
		return nil, err
	}
	b := &builder{s: s, opts: opts, df: df, declared: map[string]bool{}}
	b.out.w = opts.Progress
	if b.out.w == nil {
		b.out.w = io.Discard
	}
	last := len(df.stages) - 1
	if opts.Target != "" {
		i, ok := instructions.HasStage(df.stages, opts.Target)
		if !ok {
			return nil, fmt.Errorf("%s: target stage %q could not be found", df.name, opts.Target)
		}
		last = i
	}
	for i := 0; i <= last; i++ {
		b.out.total += 1 + len(df.stages[i].Commands)
	}
	if len(opts.Labels) > 0 {
		b.out.total++ // one LABEL step for all of them
	}
	if err := b.metaArgs(); err != nil {
		return nil, err
	}
	var st *stage
	for i := 0; i <= last; i++ {
		if st, err = b.buildStage(ctx, i); err != nil {
			return nil, err
		}
		b.results = append(b.results, st)
	}
	if err := b.extraLabels(ctx, st); err != nil {
		return nil, err
	}
	if st.img == nil {
		return nil, fmt.Errorf("%s: no image was generated: the target stage is FROM scratch with no instructions", df.name)
	}
	b.warnUnusedArgs()
	fmt.Fprintf(b.out.w, "Successfully built %s\n", shortID(st.img.ID))
	for _, t := range tags {
		if err := s.Tag(st.img.ID.String(), t); err != nil {
			return nil, fmt.Errorf("tagging %s: %w", t, err)
		}
		fmt.Fprintf(b.out.w, "Successfully tagged %s\n", t)
	}
	if len(tags) > 0 {
		return s.Resolve(st.img.ID.String())
	}
	return st.img, nil
}

// normalizeTags validates -t values and spells them as docker prints them
// ("name" is "name:latest").
func normalizeTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, t := range in {
		named, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return nil, fmt.Errorf("invalid tag %q: %w", t, err)
		}
		if _, ok := named.(reference.Digested); ok {
			return nil, fmt.Errorf("invalid tag %q: a tag cannot contain a digest", t)
		}
		t = reference.FamiliarString(reference.TagNameOnly(named))
		out = append(out, t)
	}
	return out, nil
}

// metaArgs resolves the ARGs before the first FROM: --build-arg wins over
// the default; each default may use the ones before it.
func (b *builder) metaArgs() error {
	for _, cmd := range b.df.metaArgs {
		for _, kv := range cmd.Args {
			b.declared[kv.Key] = true
			if v, ok := b.opts.BuildArgs[kv.Key]; ok {
				b.meta.set(kv.Key, v)
				continue
			}
			if kv.Value == nil {
				continue
			}
			v, err := expander(b.df.escape, newEnv(&b.meta, nil))(*kv.Value)
			if err != nil {
				return fmt.Errorf("%s:%d: %s: %w", b.df.name, line(cmd.Location()), cmd.String(), err)
			}
			b.meta.set(kv.Key, v)
		}
	}
	return nil
}

// predefinedArgs may be passed without being declared, as in Docker.
var predefinedArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

func (b *builder) warnUnusedArgs() {
	var unused []string
	for k := range b.opts.BuildArgs {
		if !b.declared[k] && !predefinedArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.out.w, "[Warning] One or more build-args %v were not consumed\n", unused)
	}
}

// buildStage runs FROM and every instruction of stage i.
func (b *builder) buildStage(ctx context.Context, i int) (*stage, error) {
	ds := &b.df.stages[i]
	b.out.stepf(ds.SourceCode)
	st, err := b.from(ds, i)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %w", b.df.name, line(ds.Location), ds.SourceCode, err)
	}
	if st.img != nil {
		b.out.linef("%s", shortID(st.img.ID))
	}
	for _, cmd := range ds.Commands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.out.stepf(cmd.(fmt.Stringer).String())
		if err := b.dispatch(ctx, st, cmd); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", b.df.name, line(cmd.Location()), cmd.(fmt.Stringer).String(), err)
		}
	}
	return st, nil
}

// from starts a stage on scratch, an earlier stage or a local image.
func (b *builder) from(ds *instructions.Stage, i int) (*stage, error) {
	st := &stage{index: i}
	base, err := expander(b.df.escape, newEnv(&b.meta, nil))(ds.BaseName)
	if err != nil {
		return nil, err
	}
	if j, ok := b.df.stageIndex(base, i); ok && !strings.EqualFold(base, "scratch") {
		prev := b.results[j]
		st.img, st.cfg = prev.img, cloneConfig(prev.cfg)
		return st, nil
	}
	if strings.EqualFold(base, "scratch") {
		st.cfg = ocispec.Image{
			Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
			Config:   ocispec.ImageConfig{Env: []string{defaultPath}},
			RootFS:   ocispec.RootFS{Type: "layers"},
		}
		return st, nil
	}
	img, err := b.s.Resolve(base)
	if errors.Is(err, layerstore.ErrNotFound) {
		return nil, fmt.Errorf("image %q is not in the local store: build, pull or load it first", base)
	}
	if err != nil {
		return nil, err
	}
	st.img, st.cfg = img, cloneConfig(img.Config)
	return st, nil
}

// extraLabels adds Options.Labels to the final image in one LABEL step
// (one intermediate image, not one per label). Its progress line shortens
// long values: the reconciler's labels carry a whole spec.
func (b *builder) extraLabels(ctx context.Context, st *stage) error {
	if len(b.opts.Labels) == 0 {
		return nil
	}
	keys := make([]string, 0, len(b.opts.Labels))
	for k := range b.opts.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cmd := instructions.NewLabelCommand(keys[0], b.opts.Labels[keys[0]], true)
	shown := make([]string, 0, len(keys))
	for i, k := range keys {
		if i > 0 {
			cmd.Labels = append(cmd.Labels, instructions.KeyValuePair{Key: k, Value: b.opts.Labels[k]})
		}
		v := b.opts.Labels[k]
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "…"
		}
		shown = append(shown, k+"="+v)
	}
	b.out.stepf("LABEL " + strings.Join(shown, " "))
	if err := b.dispatch(ctx, st, cmd); err != nil {
		return fmt.Errorf("--label: %w", err)
	}
	return nil
}

// cloneConfig deep-copies an image config, so a step never changes the
// config of an image the store handed out.
func cloneConfig(c ocispec.Image) ocispec.Image {
	var out ocispec.Image
	b, err := json.Marshal(c)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		panic(fmt.Sprintf("build: cannot copy an image config: %v", err)) // only plain data: cannot happen
	}
	return out
}

// parentID is the cache identity of the state a step starts from.
func (st *stage) parentID() string {
	if st.img == nil {
		return "scratch"
	}
	return st.img.ID.String()
}

func (st *stage) layers() []layerstore.Layer {
	if st.img == nil {
		return nil
	}
	return st.img.Layers
}

func (st *stage) parentDigest() digest.Digest {
	if st.img == nil {
		return ""
	}
	return st.img.ID
}
