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
	// Under an alias (*name), every field is reported at the alias's line:
	// that is where the user wrote it into this place.
	var walk func(n *yamlv3.Node, path string, depth, aliasLine int)
	walk = func(n *yamlv3.Node, path string, depth, aliasLine int) {
		if n == nil || depth > 64 { // deep nesting has no fields of ours
			return
		}
		if n.Kind == yamlv3.AliasNode {
			if aliasLine == 0 {
				aliasLine = n.Line
			}
			n = n.Alias
			if n == nil {
				return
			}
		}
		at := func(line int) int {
			if aliasLine > 0 {
				return first + aliasLine - 1
			}
			return first + line - 1
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
					idx[p] = at(k.Line)
				}
				walk(v, p, depth+1, aliasLine)
			}
		case yamlv3.SequenceNode:
			for i, item := range n.Content {
				p := index(path, i)
				idx[p] = at(item.Line)
				walk(item, p, depth+1, aliasLine)
			}
		}
	}
	idx[""] = first + root.Content[0].Line - 1
	walk(root.Content[0], "", 0, 0)
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
