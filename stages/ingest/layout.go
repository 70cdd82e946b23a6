package ingest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/siamese-pipeline/siamese/imageio"
	"github.com/siamese-pipeline/siamese/pipeline"
)

// Layout is what a folder dataset's folder holds: its class folders'
// names, sorted, and how many image files each holds at any depth.
type Layout struct {
	Dir     string
	Classes []string
	Images  []int
}

// maxClasses is the most classes a folder may have: labels are uint8.
const maxClasses = 256

// expected says how a folder dataset is laid out, for error messages.
func expected(dir string) string {
	return fmt.Sprintf("want %s/<class>/*.png (or .jpg, .jpeg), one folder per class, at least 2, images at any depth under their class folder", dir)
}

// ReadLayout checks that dir is a folder of class folders of images, as
// a folder dataset's source must be, and returns what it holds. It
// refuses a path that starts with an unexpanded ~, a missing or
// unreadable folder, fewer than 2 class folders, a class folder with no
// image, and a class folder that holds no image of its own but two or
// more folders of images: class folders one level down, as when source
// names the folder above the dataset's.
func ReadLayout(dir string) (*Layout, error) { return readLayout(dir, true) }

// readLayout is ReadLayout; without count, a class folder that holds an
// image of its own is taken as it is at the first one found (Images 1),
// without reading the rest: the preflight checks a folder of a hundred
// thousand images in milliseconds, as ReadLayout would judge it.
func readLayout(dir string, count bool) (*Layout, error) {
	if err := checkPath(dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", dir, err)
	}
	l := &Layout{Dir: dir}
	for _, e := range entries { // sorted by name
		if hidden(e.Name()) {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() {
			l.Classes = append(l.Classes, e.Name())
		}
	}
	var nested []string // class folders holding class folders
	for _, c := range l.Classes {
		if !count && hasOwnImage(filepath.Join(dir, c)) {
			l.Images = append(l.Images, 1)
			continue
		}
		n, own, subs, err := countImages(filepath.Join(dir, c))
		if err != nil {
			return nil, err
		}
		l.Images = append(l.Images, n)
		if own == 0 && len(subs) >= 2 {
			nested = append(nested, fmt.Sprintf("%s/ holds %s", c, strings.Join(subs, "/, ")+"/"))
		}
	}
	switch {
	case len(nested) > 0:
		return nil, fmt.Errorf("%s looks like the folder above a dataset: %s, class folders one level down and no image of their own "+
			"(is the source one level too high? set it to one of those folders); %s",
			dir, strings.Join(nested, "; "), expected(dir))
	case len(l.Classes) < 2:
		return nil, fmt.Errorf("%s holds %d class folder(s) (%s); %s", dir, len(l.Classes), strings.Join(l.Classes, ", "), expected(dir))
	case len(l.Classes) > maxClasses:
		return nil, fmt.Errorf("%s holds %d class folders, more than %d (labels are uint8); %s", dir, len(l.Classes), maxClasses, expected(dir))
	}
	for i, n := range l.Images {
		if n == 0 {
			return nil, fmt.Errorf("class folder %s holds no image (%s); %s",
				filepath.Join(dir, l.Classes[i]), strings.Join(imageio.Exts, ", "), expected(dir))
		}
	}
	return l, nil
}

// checkPath refuses a path that starts with a ~ the shell did not expand,
// and one that is not a readable folder.
func checkPath(dir string) error {
	if strings.HasPrefix(dir, "~") {
		hint := "the full path"
		if home, err := os.UserHomeDir(); err == nil && (dir == "~" || strings.HasPrefix(dir, "~/")) {
			hint = "the full path, such as " + home + strings.TrimPrefix(dir, "~")
		}
		return fmt.Errorf("source %s starts with a ~ that no shell expanded (a pipeline file, or a --set value after =, keeps it as it is): write %s", dir, hint)
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("source %s does not exist%s", dir, siblings(dir))
	case err != nil:
		return fmt.Errorf("source %s cannot be read: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("source %s is a file, not a folder", dir)
	}
	f, err := os.Open(dir)
	if err == nil {
		_, err = f.Readdirnames(1)
		f.Close()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("source %s cannot be read: %w", dir, err)
	}
	return nil
}

// siblings names what the missing path's parent folder holds, if it is
// there: the likeliest place of a typo.
func siblings(dir string) string {
	parent := filepath.Dir(filepath.Clean(dir))
	entries, err := os.ReadDir(parent)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		if !hidden(e.Name()) && e.IsDir() {
			names = append(names, e.Name()+"/")
		}
	}
	if len(names) == 0 || len(names) > 12 {
		return ""
	}
	return fmt.Sprintf(" (%s holds %s)", parent, strings.Join(names, ", "))
}

// countImages counts the image files under a class folder at any depth,
// those directly in it, and names its subfolders that hold images.
func countImages(root string) (all, own int, subs []string, err error) {
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real // a link to a folder is a class too
	}
	withImages := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && hidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !imageio.IsImage(p) {
			return nil
		}
		all++
		rel, _ := filepath.Rel(root, p)
		top, _, nested := strings.Cut(filepath.ToSlash(rel), "/")
		if !nested {
			own++
		} else if !withImages[top] {
			withImages[top] = true
			subs = append(subs, top)
		}
		return nil
	})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("folder dataset: %w", err)
	}
	return all, own, subs, nil
}

// hasOwnImage reports whether the folder dir holds an image file of its
// own (not in a subfolder), reading its entries a few at a time until one
// is found.
func hasOwnImage(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(256)
		for _, e := range entries {
			if !hidden(e.Name()) && !e.IsDir() && imageio.IsImage(e.Name()) {
				return true
			}
		}
		if err != nil {
			return false
		}
	}
}

// preflight checks, before anything runs, the folder or directory that
// source names: a folder dataset's layout, or that the directory of the
// dataset's files is there.
func preflight(p pipeline.Params) error {
	src := p.String("source")
	if p.String("dataset") == DatasetFolder {
		_, err := readLayout(src, false)
		return err
	}
	if src == "" { // the usual places, then a download
		return nil
	}
	return checkPath(src)
}
