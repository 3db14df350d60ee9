#!/bin/sh
# Checks (with binutils only: readelf, objdump) that a switchyard binary runs on the image's runtime bases (debian:bookworm-slim and
# gcr.io/distroless/cc-debian12, both Debian 12 with glibc 2.36): an x86-64 ELF executable, only
# glibc's and libgcc's shared libraries, and no glibc symbol version newer than 2.36.
#   deploy/docker/check-binary.sh PATH [MAX_GLIBC]
set -eu
bin=${1:?usage: check-binary.sh PATH [MAX_GLIBC]}
max=${2:-2.36}
# What both runtime bases ship (distroless/cc: libc6 and libgcc-s1).
allowed="libc.so.6 libm.so.6 libgcc_s.so.1 libpthread.so.0 libdl.so.2 librt.so.1 ld-linux-x86-64.so.2"
fail() { echo "check-binary: $*" >&2; exit 1; }

[ -x "$bin" ] || fail "$bin is not an executable file"
header=$(readelf -h "$bin" 2>&1) || fail "$bin is not an ELF file: $header"
echo "$header" | grep -Eq 'Type: +(DYN|EXEC)' || fail "$bin is not an executable: $header"
echo "$header" | grep -Eq 'Machine: +Advanced Micro Devices X86-64' || fail "$bin is not x86-64: $header"
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ "$interp" = "/lib64/ld-linux-x86-64.so.2" ] || fail "unexpected program interpreter: ${interp:-none}"

needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
  case " $allowed " in
    *" $lib "*) ;;
    *) fail "$bin needs $lib, which the runtime images do not ship (allowed: $allowed)" ;;
  esac
done

newest=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -u -V | tail -n 1)
[ -n "$newest" ] || fail "no glibc symbol versions found in $bin"
highest=$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -n 1)
[ "$highest" = "$max" ] || fail "$bin needs GLIBC_$newest, newer than the runtime images' $max"

echo "check-binary: $bin: $(echo $needed | tr ' ' ','); newest glibc symbol GLIBC_$newest <= $max; $(du -h "$bin" | cut -f1)"
