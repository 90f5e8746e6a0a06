package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Check verifies a whole set of objects, as one apply or one watched
// folder declares them: no (host, kind, name) twice, no Image tag twice on
// a host, every host named is "local" or a declared Host, every volume a
// Container mounts is a Volume on its host, and every image it runs is the
// tag of an Image on its host or an explicit registry reference (see
// IsExplicitRef). The error is an ErrorList; each problem is reported on
// the later or referring object.
func Check(objs []Object) error { return check(objs, nil).orNil() }

// check also counts the declarations in partial (invalid documents) so
// references to them are not reported as missing on top of their errors.
func check(objs, partial []Object) ErrorList {
	var errs ErrorList
	hosts := map[string]bool{LocalHost: true}
	volumes := map[Key]bool{}
	tags := map[[2]string]*Object{} // (host, tag) -> Image
	declare := func(o *Object) {
		switch {
		case o.HostObj != nil:
			hosts[o.Name] = true
		case o.Volume != nil:
			volumes[o.Key] = true
		case o.Image != nil && o.Image.Spec.Tag != "":
			k := [2]string{o.Host, o.Image.Spec.Tag}
			if prev := tags[k]; prev != nil && prev.Key != o.Key && o.Hash != "" {
				errs = append(errs, o.errorAt("spec.tag", "%s is already the tag of %s, declared at %s", o.Image.Spec.Tag, prev.Key, prev.Source))
			} else if prev == nil {
				tags[k] = o
			}
		}
	}

	first := map[Key]*Object{}
	var unique []*Object
	for i := range objs {
		o := &objs[i]
		if prev := first[o.Key]; prev != nil {
			errs = append(errs, o.errorAt("metadata.name", "%s is already declared at %s", o.Key, prev.Source))
			continue
		}
		first[o.Key] = o
		unique = append(unique, o)
		declare(o)
	}
	for i := range partial {
		declare(&partial[i])
	}

	for _, o := range unique {
		if !hosts[o.Host] {
			errs = append(errs, o.errorAt("spec.host", "host %q is not declared: add a Host object named %s, or use %s", o.Host, o.Host, LocalHost))
		}
		c := o.Container
		if c == nil {
			continue
		}
		for i, v := range c.Spec.Volumes {
			if !volumes[Key{o.Host, KindVolume, v.Name}] {
				errs = append(errs, o.errorAt(index("spec.volumes", i)+".name",
					"volume %q is not declared on host %s: add a Volume named %s with host %s", v.Name, o.Host, v.Name, o.Host))
			}
		}
		img := c.Spec.Image
		if img == "" || tags[[2]string{o.Host, img}] != nil || IsExplicitRef(img) {
			continue
		}
		errs = append(errs, o.errorAt("spec.image", "%q is not the tag of an Image on host %s%s: declare an Image with that tag, or write the full registry reference, like docker.io/library/%s",
			img, o.Host, closestTag(img, o.Host, tags), img))
	}
	return errs
}

// closestTag suggests a declared tag for a probable typo.
func closestTag(img, host string, tags map[[2]string]*Object) string {
	var names []string
	for k := range tags {
		if k[0] == host && editDistance(k[1], img) <= 3 {
			names = append(names, k[1])
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return fmt.Sprintf(" (did you mean %s?)", strings.Join(names, " or "))
}
