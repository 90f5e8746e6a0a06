package localbackend

import (
	"context"
	"fmt"
	"strings"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine/local"
)

// ContainerCommit implements dockerapi.ContainerBackend. Config overrides
// in the request body are accepted only as --change instructions.
func (b *Backend) ContainerCommit(ctx context.Context, ref string, o dockerapi.CommitOptions) (string, error) {
	tag := ""
	if o.Repo != "" {
		tag = dockerapi.JoinRef(o.Repo, o.Tag)
	}
	changes := append([]string{}, o.Changes...)
	if c := o.Config; c != nil {
		if c.Cmd != nil {
			changes = append(changes, "CMD "+jsonArray(c.Cmd))
		}
		if c.Entrypoint != nil {
			changes = append(changes, "ENTRYPOINT "+jsonArray(c.Entrypoint))
		}
		for _, kv := range c.Env {
			k, v, _ := strings.Cut(kv, "=")
			changes = append(changes, fmt.Sprintf("ENV %s=%q", k, v))
		}
	}
	img, err := b.e.Commit(ctx, ref, local.CommitOptions{Tag: tag, Author: o.Author, Message: o.Comment, Changes: changes})
	if err != nil {
		return "", local.WrapError(err)
	}
	return img.ID.String(), nil
}

func jsonArray(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
