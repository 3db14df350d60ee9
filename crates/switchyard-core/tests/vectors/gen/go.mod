module switchyard.test/vectors

go 1.24

require (
	google.golang.org/protobuf v1.36.11
	gopkg.in/yaml.v3 v3.0.1
)
