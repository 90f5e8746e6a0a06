package spec

import (
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// lineIndex maps field paths ("spec.volumes[0].mountPath") to the 1-based
// line of the file they are written on. sigs.k8s.io/yaml, which decodes
// manifests, forgets positions; a second parse with yaml.v3 recovers them.
type lineIndex map[string]int

// indexLines parses one document (starting at file line first) and records
// the line of every key and sequence item. A document yaml.v3 cannot read
// yields an empty index: errors then point at the document's first line.
func indexLines(doc []byte, first int) lineIndex {
	idx := lineIndex{}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(doc, &root); err != nil || len(root.Content) == 0 {
		return idx
	}
	var walk func(n *yamlv3.Node, path string, depth int)
	walk = func(n *yamlv3.Node, path string, depth int) {
		if n == nil || depth > 64 { // deep nesting has no fields of ours
			return
		}
		if n.Kind == yamlv3.AliasNode {
			n = n.Alias
			if n == nil {
				return
			}
		}
		switch n.Kind {
		case yamlv3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "<<" { // merge keys name no field
					continue
				}
				p := child(path, k.Value)
				if _, ok := idx[p]; !ok {
					idx[p] = first + k.Line - 1
				}
				walk(v, p, depth+1)
			}
		case yamlv3.SequenceNode:
			for i, item := range n.Content {
				p := index(path, i)
				idx[p] = first + item.Line - 1
				walk(item, p, depth+1)
			}
		}
	}
	idx[""] = first + root.Content[0].Line - 1
	walk(root.Content[0], "", 0)
	return idx
}

// line finds the line of path, or of its nearest written ancestor: a
// missing required field is reported where its parent is.
func (idx lineIndex) line(path string) int {
	for {
		if l, ok := idx[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

func parentPath(path string) string {
	cut := strings.LastIndexAny(path, ".[")
	if cut < 0 {
		return ""
	}
	// A quoted key like labels["a.b"] contains dots: cut at its bracket.
	if strings.HasSuffix(path, `"]`) {
		if q := strings.LastIndex(path, `["`); q >= 0 {
			cut = q
		}
	}
	return path[:cut]
}
