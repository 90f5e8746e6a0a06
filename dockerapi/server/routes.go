package server

import "net/http"

// routes lists the endpoints served. Order matters where image names (which
// may hold "/") meet fixed suffixes: specific routes come first.
func (s *Server) routes() {
	rt := &s.router
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete

	rt.add(http.MethodHead, "/_ping", s.ping)
	rt.add(get, "/_ping", s.ping)
	rt.add(get, "/version", s.version)
	rt.add(get, "/info", s.info)
	rt.add(get, "/system/df", s.diskUsage)
	rt.add(get, "/events", s.events)

	rt.add(get, "/containers/json", s.containerList)
	rt.add(post, "/containers/create", s.containerCreate)
	rt.add(post, "/containers/prune", s.containersPrune)
	rt.add(get, "/containers/{id}/json", inspect("id", s.backend.ContainerInspect))
	rt.add(post, "/containers/{id}/start", s.containerStart)
	rt.add(post, "/containers/{id}/stop", s.containerStop)
	rt.add(post, "/containers/{id}/restart", s.containerRestart)
	rt.add(post, "/containers/{id}/kill", s.containerKill)
	rt.add(post, "/containers/{id}/wait", s.containerWait)
	rt.add(get, "/containers/{id}/logs", s.containerLogs)
	rt.add(post, "/containers/{id}/attach", s.containerAttach)
	rt.add(post, "/containers/{id}/resize", s.containerResize)
	rt.add(post, "/containers/{id}/exec", s.execCreate)
	rt.add(post, "/containers/{id}/rename", s.containerRename)
	rt.add(post, "/containers/{id}/update", s.containerUpdate)
	rt.add(get, "/containers/{id}/top", s.containerTop)
	rt.add(get, "/containers/{id}/stats", s.containerStats)
	rt.add(del, "/containers/{id}", s.containerRemove)
	rt.add(get, "/containers/{id}/changes", s.containerChanges)
	rt.add(get, "/containers/{id}/archive", s.containerArchive) // HEAD too
	rt.add(http.MethodPut, "/containers/{id}/archive", s.containerExtract)
	rt.add(get, "/containers/{id}/export", s.containerExport)
	rt.add(post, "/commit", s.commit)
	rt.add(post, "/exec/{id}/start", s.execStart)
	rt.add(get, "/exec/{id}/json", inspect("id", s.backend.ExecInspect))
	rt.add(post, "/exec/{id}/resize", s.execResize)

	rt.add(get, "/images/json", s.imageList)
	rt.add(post, "/images/create", s.imageCreate)
	rt.add(post, "/images/load", s.imageLoad)
	rt.add(get, "/images/get", s.imageSave)
	rt.add(post, "/images/prune", s.imagesPrune)
	rt.add(get, "/images/{name...}/json", inspect("name", s.backend.ImageInspect))
	rt.add(get, "/images/{name...}/history", s.imageHistory)
	rt.add(get, "/images/{name...}/get", s.imageSave)
	rt.add(post, "/images/{name...}/tag", s.imageTag)
	rt.add(post, "/images/{name...}/push", s.imagePush)
	rt.add(del, "/images/{name...}", s.imageRemove)
	rt.add(post, "/build", s.build)
	rt.add(post, "/build/prune", buildPrune)

	rt.add(post, "/volumes/create", s.volumeCreate)
	rt.add(post, "/volumes/prune", s.volumesPrune)
	rt.add(get, "/volumes", s.volumeList)
	rt.add(get, "/volumes/{name}", inspect("name", s.backend.VolumeInspect))
	rt.add(del, "/volumes/{name}", s.volumeRemove)

	rt.add(get, "/networks", filtered(s.backend.NetworkList))
	rt.add(post, "/networks/create", s.networkCreate)
	rt.add(post, "/networks/prune", filtered(s.backend.NetworksPrune))
	rt.add(get, "/networks/{id}", inspect("id", s.backend.NetworkInspect))
	rt.add(del, "/networks/{id}", s.networkChange)
	rt.add(post, "/networks/{id}/connect", s.networkChange)
	rt.add(post, "/networks/{id}/disconnect", s.networkChange)
}
