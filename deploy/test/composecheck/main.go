// Command composecheck loads a Compose file with compose-go (the loader Docker Compose uses):
// the file is validated against the Compose specification's schema, interpolated and
// normalised, then printed as JSON so scripts/test-deploy.sh can run its services' commands
// with the real binaries.
//
//	composecheck deploy/compose/docker-compose.yml > project.json
//
// Exit 0 with the project on stdout, 1 with the loader's error.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck COMPOSE_FILE")
		os.Exit(1)
	}
	file, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	options, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithResolvedPaths(true),
		// COMPOSE_PROFILES=a,b enables those profiles' services, as docker compose does
		cli.WithProfiles(profiles()),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func profiles() []string {
	var out []string
	for _, p := range strings.Split(os.Getenv("COMPOSE_PROFILES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "composecheck:", err)
	os.Exit(1)
}
