//go:build azure

package main

import _ "gocloud.dev/blob/azureblob" // azblob://container/prefix, with -tags azure
