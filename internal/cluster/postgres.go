//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// postgresBinDir finds Debian's PostgreSQL server programs: the newest
// /usr/lib/postgresql/<version>/bin, else the directory of an initdb on PATH.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(initdb), nil
	}
	return "", fmt.Errorf("no PostgreSQL server: no /usr/lib/postgresql/*/bin/initdb and no initdb on PATH (make postgresql installs Debian's)")
}

// postgresUser is who PostgreSQL runs as: the `postgres` system user when this process is root
// (PostgreSQL refuses to run as root), else this process's own user (nil).
func postgresUser() (*syscall.Credential, int, error) {
	if os.Geteuid() != 0 {
		return nil, os.Geteuid(), nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, fmt.Errorf("running as root, PostgreSQL needs the postgres system user, which Debian's postgresql package creates: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, nil
}

// startPostgres creates a database cluster in dir (owned by the user PostgreSQL runs as) and
// starts it on 127.0.0.1:port, its socket in dir, with trust authentication for local
// connections. Durability settings are off: this database lives as long as the test, and what
// the test kills is LabelFlow, never PostgreSQL.
func startPostgres(ctx context.Context, dir, logDir string, port int) (*process, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, uid, err := postgresUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C", "LC_ALL=C"}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb %s: %w\n%s", data, err, out)
	}
	p := &process{
		name: "postgresql",
		argv: []string{filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
			"-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "shared_buffers=256MB"},
		env:     []string{"LANG=C", "LC_ALL=C"},
		logFile: filepath.Join(logDir, "postgresql.log"),
		user:    cred,
		// SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave.
		stopSignal: syscall.SIGINT,
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second, p); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}
