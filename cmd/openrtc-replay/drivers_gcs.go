//go:build gcs

package main

import _ "gocloud.dev/blob/gcsblob" // gs://bucket/prefix, with -tags gcs
