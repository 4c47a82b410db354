package bucket

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"gocloud.dev/blob"
)

// IsURL reports whether s names a bucket rather than a local path: it has a
// scheme, such as s3:// or file://.
func IsURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Location is a bucket and a prefix within it, opened from a URL.
type Location struct {
	Bucket *blob.Bucket
	Prefix string // "" or ending in "/"
	URL    string // the URL it was opened from
}

// Open opens the bucket a URL names. The path after the bucket name is the
// prefix (s3://recordings/prod/ → bucket "recordings", prefix "prod/");
// query parameters go to the driver (s3://b/p?region=eu-west-1&endpoint=...).
// For file:// URLs the whole path is the directory that plays the bucket.
func Open(ctx context.Context, rawURL string) (*Location, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", rawURL, err)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("bucket %q: not a URL (want s3://, gs://, azblob:// or file://)", rawURL)
	}
	open := *u
	prefix := ""
	if u.Scheme != "file" {
		if u.Host == "" {
			return nil, fmt.Errorf("bucket %q: no bucket name", rawURL)
		}
		prefix = strings.Trim(u.Path, "/")
		open.Path = ""
	}
	if prefix != "" {
		prefix = path.Clean(prefix) + "/"
	}
	b, err := blob.OpenBucket(ctx, open.String())
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", rawURL, err)
	}
	return &Location{Bucket: b, Prefix: prefix, URL: rawURL}, nil
}

// Close closes the bucket.
func (l *Location) Close() error { return l.Bucket.Close() }

// Key returns the key of name under the location's prefix.
func (l *Location) Key(parts ...string) string { return l.Prefix + path.Join(parts...) }
