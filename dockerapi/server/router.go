package server

import (
	"net/http"
	"regexp"
	"strings"
)

// handlerFunc serves one route; an error returned before the response
// started becomes a {"message"} reply with Docker's status code.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p params) error

// params are the path variables of a matched route.
type params map[string]string

type route struct {
	method  string
	pattern string   // e.g. "/images/{name...}/json"
	segs    []string // pattern split on "/"
	h       handlerFunc
}

// router matches Docker API paths. Docker image names hold "/" and ":"
// unescaped (/images/localhost:5000/foo/mini:3/json), so a "{x...}"
// segment takes one or more path segments, as many as leave the fixed
// suffix matching. Routes are tried in the order added.
type router struct{ routes []route }

func (rt *router) add(method, pattern string, h handlerFunc) {
	rt.routes = append(rt.routes, route{method: method, pattern: pattern, segs: split(pattern), h: h})
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/|$)`)

// stripVersion splits "/v1.41/containers/json" into "1.41" and
// "/containers/json"; a path without prefix gives "".
func stripVersion(path string) (version, rest string) {
	m := versionPrefix.FindStringSubmatchIndex(path)
	if m == nil {
		return "", path
	}
	version = path[m[2]:m[3]]
	rest = path[m[3]:]
	if rest == "" {
		rest = "/"
	}
	return version, rest
}

// match finds the route for method and a path without version prefix.
// It returns the pattern of a route matching the path with another method,
// if any, so the caller can answer 405 rather than 404.
func (rt *router) match(method, path string) (*route, params, bool) {
	segs := split(path)
	pathMatched := false
	for i := range rt.routes {
		r := &rt.routes[i]
		p := params{}
		if !matchSegs(r.segs, segs, p) {
			continue
		}
		pathMatched = true
		if r.method == method || (method == http.MethodHead && r.method == http.MethodGet) {
			return r, p, true
		}
	}
	return nil, nil, pathMatched
}

func split(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func matchSegs(pat, segs []string, p params) bool {
	for i, ps := range pat {
		if strings.HasPrefix(ps, "{") && strings.HasSuffix(ps, "...}") {
			name := ps[1 : len(ps)-4]
			rest := pat[i+1:]
			// Greedy: the name takes all but the segments the fixed suffix needs.
			n := len(segs) - i - len(rest)
			if n < 1 {
				return false
			}
			if !matchSegs(rest, segs[i+n:], p) {
				return false
			}
			p[name] = strings.Join(segs[i:i+n], "/")
			return true
		}
		if i >= len(segs) {
			return false
		}
		if strings.HasPrefix(ps, "{") && strings.HasSuffix(ps, "}") {
			p[ps[1:len(ps)-1]] = segs[i]
			continue
		}
		if ps != segs[i] {
			return false
		}
	}
	return len(pat) == len(segs)
}
