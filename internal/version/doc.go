// Package version says which licensegw this is.
package version
