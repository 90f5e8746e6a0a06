package layerstore

import (
	"os"

	digest "github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descImages = prometheus.NewDesc("reconciler_layerstore_images",
		"Images in the store.", nil, nil)
	descLayers = prometheus.NewDesc("reconciler_layerstore_layers",
		"Unpacked layers in the store (each stored once, shared by every image above it).", nil, nil)
	descLayerBytes = prometheus.NewDesc("reconciler_layerstore_layer_bytes",
		"Bytes of file content in unpacked layers.", nil, nil)
	descBlobBytes = prometheus.NewDesc("reconciler_layerstore_blob_bytes",
		"Bytes of blobs (layer archives, manifests, configs).", nil, nil)
	descSaved = prometheus.NewDesc("reconciler_layerstore_shared_bytes_saved",
		"Bytes not stored thanks to layer sharing: what one copy of each layer per image would add.", nil, nil)
)

// storeCollector measures the store at scrape time.
type storeCollector struct{ s *Store }

// Collectors are the store's Prometheus collectors, for the caller to
// register (nothing is registered globally).
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{storeCollector{s}}
}

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descImages, descLayers, descLayerBytes, descBlobBytes, descSaved} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.s.Usage()
	if err != nil {
		for _, d := range []*prometheus.Desc{descImages, descLayers, descLayerBytes, descBlobBytes, descSaved} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(descImages, prometheus.GaugeValue, float64(st.Images))
	ch <- prometheus.MustNewConstMetric(descLayers, prometheus.GaugeValue, float64(st.Layers))
	ch <- prometheus.MustNewConstMetric(descLayerBytes, prometheus.GaugeValue, float64(st.LayerBytes))
	ch <- prometheus.MustNewConstMetric(descBlobBytes, prometheus.GaugeValue, float64(st.BlobBytes))
	ch <- prometheus.MustNewConstMetric(descSaved, prometheus.GaugeValue, float64(st.SharedBytesSaved))
}

// Usage is what the store holds (`docker system df` for images).
type Usage struct {
	Images, Layers   int
	LayerBytes       int64 // file content of unpacked layers, each once
	BlobBytes        int64
	SharedBytesSaved int64 // sum over images of their layers' content, minus LayerBytes of those layers
}

// Usage measures the store.
func (s *Store) Usage() (Usage, error) {
	var u Usage
	sizes := map[digest.Digest]int64{}
	layers, err := os.ReadDir(s.path("layers"))
	if err != nil {
		return u, err
	}
	for _, l := range layers {
		rec, err := s.readLayer(digest.NewDigestFromEncoded(digest.SHA256, l.Name()))
		if err != nil {
			continue // being removed
		}
		u.Layers++
		u.LayerBytes += rec.UnpackedSize
		sizes[rec.ChainID] = rec.UnpackedSize
	}
	blobs, err := os.ReadDir(s.path("blobs", "sha256"))
	if err != nil {
		return u, err
	}
	for _, b := range blobs {
		if fi, err := b.Info(); err == nil {
			u.BlobBytes += fi.Size()
		}
	}
	imgs, err := s.List()
	if err != nil {
		return u, err
	}
	u.Images = len(imgs)
	used := map[digest.Digest]bool{}
	var perImage int64
	for _, img := range imgs {
		for _, l := range img.Layers {
			perImage += sizes[l.ChainID]
			used[l.ChainID] = true
		}
	}
	var unique int64
	for ch := range used {
		unique += sizes[ch]
	}
	u.SharedBytesSaved = perImage - unique
	return u, nil
}
