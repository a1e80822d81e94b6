package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/licensegw/licensegw/sdk"
)

// Errors callers branch on.
var (
	// ErrChecksum: the plugin binary does not have the configured SHA-256.
	ErrChecksum = errors.New("plugin checksum mismatch")
	// ErrAPIVersion: the plugin speaks a plugin API this gateway does not.
	ErrAPIVersion = errors.New("unsupported plugin API version")
)

// defaultStartTimeout bounds a plugin's handshake when ctx has no deadline.
const defaultStartTimeout = 30 * time.Second

// process is one running plugin process.
type process struct {
	cmd    *exec.Cmd
	client *plugin.Client
	remote *sdk.Remote
	pid    int
}

// command says how to start a plugin process.
type command struct {
	path, dir  string
	args       []string
	sum        string     // hex SHA-256 of the binary; "" checks nothing
	gomaxprocs int        // the process's GOMAXPROCS; 0 leaves the inherited one
	files      []*os.File // inherited as fd 3, 4, ...
}

// launch starts the plugin binary c.path with c.files inherited as fd 3...,
// completes the go-plugin handshake and dispenses the Protocol handle.
func launch(ctx context.Context, c command, log hclog.Logger) (*process, error) {
	secure, err := secureConfig(c.sum)
	if err != nil {
		return nil, err
	}
	// go-plugin verifies the checksum too, but only says it did not match;
	// checking first gives a better error, and go-plugin's check still
	// covers a binary swapped in between.
	if err := verifyChecksum(c.path, c.sum); err != nil {
		return nil, err
	}
	cmd := exec.Command(c.path, c.args...)
	cmd.Dir = c.dir
	cmd.ExtraFiles = c.files
	// The plugin inherits the gateway's environment, so that an operator's
	// GOGC, GOMEMLIMIT or GOMAXPROCS reaches it too (the SDK's defaults
	// apply otherwise). What the gateway sets comes after and so wins
	// (os/exec keeps the last of duplicate keys); go-plugin is told not to
	// add the environment again, after it.
	cmd.Env = append(os.Environ(), sdk.EnvLogLevel+"="+strings.ToLower(log.GetLevel().String()))
	if c.gomaxprocs > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(c.gomaxprocs))
	}
	setPdeathsig(cmd)

	timeout := defaultStartTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		Plugins:          sdk.PluginMap(),
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true, // cmd.Env has it
		StartTimeout:     timeout,
		Logger:           log,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("%w: %s", ErrChecksum, c.path)
		}
		return nil, fmt.Errorf("start plugin %s: %w", c.path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: %w", c.path, err)
	}
	remote, ok := raw.(*sdk.Remote)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: dispensed %T, not *sdk.Remote", c.path, raw)
	}
	p := &process{cmd: cmd, client: client, remote: remote}
	if cmd.Process != nil {
		p.pid = cmd.Process.Pid
	}
	return p, nil
}

// kill ends the process: go-plugin's graceful close, then a hard kill.
func (p *process) kill() {
	p.client.Kill()
	p.remote.Close()
}

// killNow kills the process without grace, then lets go-plugin clean up.
func (p *process) killNow() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	p.client.Kill()
	p.remote.Close()
}

func secureConfig(sum string) (*plugin.SecureConfig, error) {
	if sum == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(sum)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("sha256 %q: not 64 hexadecimal digits", sum)
	}
	return &plugin.SecureConfig{Checksum: b, Hash: sha256.New()}, nil
}

// verifyChecksum checks the binary at path against sum (hex SHA-256); an
// empty sum checks nothing.
func verifyChecksum(path, sum string) error {
	if sum == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("plugin binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("plugin binary %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, sum) {
		return fmt.Errorf("%w: %s has sha256 %s, configured %s", ErrChecksum, path, got, sum)
	}
	return nil
}

// Describe runs the plugin binary at path only to ask its Info, then kills
// it. The gateway uses the Info's config schema to decode the plugin's
// configuration block and its listeners to know what to bind.
func Describe(ctx context.Context, path string, args []string, sha256 string, log hclog.Logger) (sdk.Info, error) {
	p, err := OpenProbe(ctx, ProbeSpec{Path: path, Args: args, SHA256: sha256, Log: log})
	if err != nil {
		return p.Info(), err
	}
	defer p.Close()
	return p.Info(), nil
}

// negotiate returns the plugin API version the gateway and the plugin use:
// the highest both speak.
func negotiate(info sdk.Info) (int, error) {
	v, err := sdk.NegotiateAPIVersion(info, sdk.APIVersions())
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrAPIVersion, err)
	}
	return v, nil
}
