#!/usr/bin/env python3
"""Writes a one-layer OCI image archive that `ctr -n k8s.io images import` accepts, with no
registry and no container daemon: the lab's control-plane images (lab/k8s-images.sh).

Usage: mkimage.py OUT.tar NAME:TAG [--entrypoint JSON] HOSTFILE:IMAGEPATH ...

The layer holds the given files (mode kept, owned by root), the usual empty top-level dirs and a
minimal /etc/passwd; the config sets PATH so a pod's `command: [kube-apiserver, ...]` resolves.
Format: OCI image layout (oci-layout, index.json, blobs/sha256/*), the image name in the index's
io.containerd.image.name annotation.
"""
import argparse
import hashlib
import io
import json
import os
import tarfile


def blob(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add_bytes(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tf.addfile(info, io.BytesIO(data))


def layer_tar(files: list[str]) -> bytes:
    buf, dirs = io.BytesIO(), set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        def mkdirs(path: str) -> None:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
                    tf.addfile(info)
        for d in ("dev", "proc", "sys", "tmp", "etc", "var/run"):
            mkdirs(d)
        add_bytes(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add_bytes(tf, "etc/group", b"root:x:0:\nnobody:x:65534:\n")
        for spec in files:
            src, dst = spec.split(":", 1)
            dst = dst.lstrip("/")
            mkdirs(os.path.dirname(dst))
            info = tf.gettarinfo(src, arcname=dst)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            with open(src, "rb") as f:
                tf.addfile(info, f)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("ref")
    ap.add_argument("--entrypoint")
    ap.add_argument("files", nargs="+")
    a = ap.parse_intermixed_args()

    layer = layer_tar(a.files)
    config = {
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + blob(layer)]},
    }
    if a.entrypoint:
        config["config"]["Entrypoint"] = json.loads(a.entrypoint)
    config_b = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + blob(config_b), "size": len(config_b)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + blob(layer), "size": len(layer)}],
    }
    manifest_b = json.dumps(manifest, separators=(",", ":")).encode()
    index = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + blob(manifest_b), "size": len(manifest_b),
            "annotations": {"io.containerd.image.name": a.ref, "org.opencontainers.image.ref.name": a.ref.rsplit(":", 1)[1]},
            "platform": {"architecture": "amd64", "os": "linux"},
        }],
    }
    tmp = a.out + ".part"
    with tarfile.open(tmp, "w") as tf:
        add_bytes(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(tf, "index.json", json.dumps(index).encode())
        for data in (layer, config_b, manifest_b):
            add_bytes(tf, "blobs/sha256/" + blob(data), data)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
