// Command mkfolder writes a folder dataset of PNG images for make bench:
// images -from to -from+n-1, each 32×32 grayscale noise drawn from its
// number, spread over ten class folders as DIR/class<k>/<number>.png.
// Running it again with a larger -from adds images beside the others.
//
//	go run ./bench/mkfolder -dir out/bench-folder -n 100000
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

func main() {
	dir := flag.String("dir", "", "the folder dataset to write into")
	n := flag.Int("n", 100000, "images to write")
	from := flag.Int("from", 0, "number of the first image")
	flag.Parse()
	if *dir == "" {
		log.Fatal("mkfolder: -dir is required")
	}
	for c := range 10 {
		if err := os.MkdirAll(filepath.Join(*dir, fmt.Sprintf("class%d", c)), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for w := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var b bytes.Buffer
			img := image.NewGray(image.Rect(0, 0, 32, 32))
			for i := *from + w; i < *from+*n; i += runtime.GOMAXPROCS(0) {
				r := rand.New(rand.NewPCG(uint64(i), 7))
				for j := range img.Pix {
					img.Pix[j] = uint8(r.UintN(256))
				}
				b.Reset()
				if err := png.Encode(&b, img); err != nil {
					errs <- err
					return
				}
				if err := os.WriteFile(filepath.Join(*dir, fmt.Sprintf("class%d", i%10), fmt.Sprintf("%07d.png", i)), b.Bytes(), 0o644); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		log.Fatal(err)
	}
}
