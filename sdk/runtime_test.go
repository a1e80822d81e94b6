package sdk

import "testing"

func TestPluginProcs(t *testing.T) {
	tests := []struct{ cpus, want int }{
		{1, 1}, {2, 1}, {4, 1}, {7, 1}, {8, 2}, {11, 2}, {12, 3}, {16, 4}, {64, 16},
		// The runtime never reports fewer than 1; a bad base still gets 1.
		{0, 1}, {-3, 1},
	}
	for _, tt := range tests {
		if got := pluginProcs(tt.cpus); got != tt.want {
			t.Errorf("pluginProcs(%d) = %d, want %d", tt.cpus, got, tt.want)
		}
	}
}
