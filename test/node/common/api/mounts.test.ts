// -v, --mount and --volumes-from values as docker/cli and moby read them, table-tested.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkMount, parseBind, parseMountFlag, parseVolumesFrom, splitVolumeFlag, volumeNameError } from "../../../../src/common/api/mounts.js";

test("--mount: docker/cli's fields, defaults and refusals (opts/mount.go)", () => {
  assert.deepEqual(parseMountFlag("type=bind,source=/src,target=/dst,readonly"), { Type: "bind", Source: "/src", Target: "/dst", ReadOnly: true });
  assert.deepEqual(parseMountFlag("src=data,dst=/d,volume-nocopy,volume-label=a=b"), { Type: "volume", Source: "data", Target: "/d", VolumeOptions: { NoCopy: true, Labels: { a: "b" } } });
  assert.deepEqual(parseMountFlag("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770"), { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
  assert.deepEqual(parseMountFlag('"type=bind","src=/a,b",dst=/c'), { Type: "bind", Source: "/a,b", Target: "/c" });
  const bad: Array<[string, string]> = [
    ["type=volume,foo=bar", "unexpected key 'foo' in 'foo=bar'"],
    ["src=x", "target is required"],
    ["garbage", "invalid field 'garbage' must be a key=value pair"],
    ["dst=/x,readonly=maybe", "invalid value for readonly: maybe"],
    ["type=tmpfs,dst=/x,tmpfs-size=abc", "invalid value for tmpfs-size: abc"],
    ["type=tmpfs,dst=/x,tmpfs-mode=999", "invalid value for tmpfs-mode: 999"],
    ["type=bind,dst=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"],
    ["type=volume,dst=/x,bind-propagation=shared", "cannot mix 'bind-*' options with mount type 'volume'"],
    ["type=bind,dst=/x,bind-recursive=bogus", 'invalid value for bind-recursive: bogus (must be "enabled", "disabled", "writable", or "readonly")'],
  ];
  for (const [v, why] of bad) assert.equal(parseMountFlag(v), why, v);
});

test("-v: the CLI sorts binds from anonymous volumes (compose ParseVolume words)", () => {
  assert.deepEqual(splitVolumeFlag("/data"), { source: "", target: "/data" });
  assert.deepEqual(splitVolumeFlag("data:/data:ro"), { source: "data", target: "/data" });
  assert.equal(splitVolumeFlag(""), "invalid empty volume spec");
  assert.equal(splitVolumeFlag("a::b"), "invalid spec: a::b: empty section between colons");
  assert.equal(splitVolumeFlag("a:b:c:d"), "invalid spec: a:b:c:d: too many colons");
});

test("Binds: moby's ParseMountRaw (modes, absolute paths, the root)", () => {
  assert.deepEqual(parseBind("data:/d"), { type: "volume", name: "data", source: "", destination: "/d", rw: true, mode: "z", propagation: "", copyData: true, mustExist: false });
  assert.deepEqual(parseBind("/host:/d:ro"), { type: "bind", name: "", source: "/host", destination: "/d", rw: false, mode: "ro", propagation: "rprivate", copyData: true, mustExist: false });
  assert.equal((parseBind("data:/d:nocopy") as { copyData: boolean }).copyData, false);
  assert.equal(parseBind("a:/x:rx"), "invalid mode: rx");
  assert.equal(parseBind("/foo:rw"), "invalid volume specification: '/foo:rw'");
  assert.equal(parseBind("data:app"), `invalid volume specification: 'data:app': invalid mount config for type "volume": invalid mount path: 'app' mount path must be absolute`);
  assert.equal(parseBind("/x:/"), `invalid volume specification: '/x:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  assert.equal(parseBind("a:/b:ro,rw"), "invalid mode: ro,rw");
});

test("Mounts: moby's validateMountConfig words", () => {
  assert.equal(checkMount({ Type: "bind", Target: "/x" }), `invalid mount config for type "bind": field Source must not be empty`);
  assert.equal(checkMount({ Type: "volume", Target: "/x", ReadOnly: true }), `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`);
  assert.equal(checkMount({ Type: "tmpfs", Source: "x", Target: "/x" }), `invalid mount config for type "tmpfs": field Source must not be specified`);
  assert.equal(checkMount({ Type: "npipe", Target: "/x" }), `invalid mount config for type "npipe": mount type unknown`);
  assert.equal(checkMount({ Type: "bind", Source: "rel", Target: "/x" }), `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
  assert.deepEqual(checkMount({ Type: "bind", Source: "/a/", Target: "/b/../c" }), { type: "bind", name: "", source: "/a", destination: "/c", rw: true, mode: "", propagation: "rprivate", copyData: true, mustExist: true });
});

test("--volumes-from and volume names", () => {
  assert.deepEqual(parseVolumesFrom("web"), { container: "web", rw: true });
  assert.deepEqual(parseVolumesFrom("web:ro"), { container: "web", rw: false });
  assert.equal(parseVolumesFrom("web:rx"), "invalid mode: rx");
  assert.equal(parseVolumesFrom("web:nocopy"), "invalid mode: nocopy");
  assert.equal(volumeNameError("my-data.1"), undefined);
  assert.equal(volumeNameError("a"), "volume name is too short, names should be at least two alphanumeric characters");
  assert.match(volumeNameError("a/b")!, /^"a\/b" includes invalid characters for a local volume name/);
});
