"""Hostile and harmless disk images, built at test time with qemu-img and by writing headers.

Nothing here ever writes to a file the images point at: qcow2 images that name a data file are created against a
scratch data file and their header extension is then rewritten to point at the target, and backing files are set
with `-u` (qemu-img does not open them)."""
import os
import struct
import subprocess

QCOW2_EXT_DATA_FILE = 0x44415441
QCOW2_EXT_END = 0


def qemu_img(*args):
    subprocess.run(["qemu-img"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def point_data_file(path, target):
    """Rewrites the external-data-file header extension of the qcow2 at `path` to name `target`."""
    with open(path, "r+b") as f:
        head = bytearray(f.read(65536))
        version = struct.unpack(">I", head[4:8])[0]
        if version < 3:
            raise ValueError("data files need qcow2 v3")
        header_length = struct.unpack(">I", head[100:104])[0]
        pos, exts = header_length, []
        while pos + 8 <= len(head):
            ext_type, ext_len = struct.unpack(">II", head[pos:pos + 8])
            if ext_type == QCOW2_EXT_END:
                break
            exts.append((ext_type, bytes(head[pos + 8:pos + 8 + ext_len])))
            pos += 8 + ((ext_len + 7) & ~7)
        exts = [(t, target.encode() if t == QCOW2_EXT_DATA_FILE else d) for t, d in exts]
        out = bytearray()
        for t, d in exts + [(QCOW2_EXT_END, b"")]:
            out += struct.pack(">II", t, len(d)) + d + b"\0" * (((len(d) + 7) & ~7) - len(d))
        f.seek(header_length)
        f.write(out)


def vmdk_descriptor(path, extent, create_type="monolithicFlat"):
    text = ("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"%s\"\n\n"
            "# Extent description\n%s\n\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\n"
            "ddb.geometry.cylinders = \"2\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n"
            "ddb.adapterType = \"ide\"\n" % (create_type, extent))
    with open(path, "w") as f:
        f.write(text)


def build_static(d, secret_path):
    """Every image that does not depend on ids known only at run time. Returns {name: path}."""
    p = lambda name: os.path.join(d, name)
    out = {}

    with open(p("plain.raw"), "wb") as f:
        f.write(b"harmless raw disk\n".ljust(1 << 20, b"\0"))
    out["plain.raw"] = p("plain.raw")
    qemu_img("create", "-q", "-f", "qcow2", p("plain.qcow2"), "1M")
    qemu_img("convert", "-q", "-f", "raw", "-O", "qcow2", p("plain.raw"), p("plain.qcow2"))
    out["plain.qcow2"] = p("plain.qcow2")
    qemu_img("create", "-q", "-f", "vmdk", p("plain.vmdk"), "1M")
    out["plain.vmdk"] = p("plain.vmdk")

    for name, target in (("a-backing-secret.qcow2", secret_path), ("a-backing-passwd.qcow2", "/etc/passwd")):
        qemu_img("create", "-q", "-f", "qcow2", "-u", "-b", target, "-F", "raw", p(name), "1M")
        out[name] = p(name)

    for name, target in (("b-datafile-secret.qcow2", secret_path), ("b-datafile-passwd.qcow2", "/etc/passwd")):
        scratch = p(name + ".scratch-data")
        qemu_img("create", "-q", "-f", "qcow2", "-o", "data_file=%s,data_file_raw=on" % scratch, p(name), "1M")
        os.unlink(scratch)
        point_data_file(p(name), target)
        out[name] = p(name)

    vmdk_descriptor(p("c-vmdk-secret.vmdk"), 'RW 2048 FLAT "%s" 0' % secret_path)
    out["c-vmdk-secret.vmdk"] = p("c-vmdk-secret.vmdk")
    vmdk_descriptor(p("c-vmdk-rel-identity.vmdk"), 'RW 2048 FLAT "../../identity.sqlite-wal" 0')
    out["c-vmdk-rel-identity.vmdk"] = p("c-vmdk-rel-identity.vmdk")

    qemu_img("create", "-q", "-f", "qcow2", p("f-huge-1P.qcow2"), "1P")
    out["f-huge-1P.qcow2"] = p("f-huge-1P.qcow2")
    # 10 TiB = 21474836480 sectors, in a descriptor whose one extent has no path separator.
    vmdk_descriptor(p("f-vmdk-10T.vmdk"), 'RW 21474836480 FLAT "f-vmdk-10T-flat.vmdk" 0')
    out["f-vmdk-10T.vmdk"] = p("f-vmdk-10T.vmdk")
    return out


def build_other_project_extent(d, other_image_id):
    """A VMDK whose relative FLAT extent names another project's image file in the blob store."""
    path = os.path.join(d, "c-vmdk-rel-other-project.vmdk")
    vmdk_descriptor(path, 'RW 2048 FLAT "../../blobs/objects/%s" 0' % other_image_id)
    return path


TRUNCATABLE = (("qcow2", "qcow2", "qcow2"), ("vmdk", "vmdk", "vmdk"), ("vpc", "vhd", "vhd"),
               ("vhdx", "vhdx", "vhdx"), ("vdi", "vdi", "vdi"))
CUTS = (4, 48, 100, 512, 70000)


def build_truncated(d):
    """Each format's header cut at several points: [(name, path, disk_format)]."""
    out = []
    for qemu_fmt, disk_format, ext in TRUNCATABLE:
        full = os.path.join(d, "full." + ext)
        qemu_img("create", "-q", "-f", qemu_fmt, full, "16M")
        data = open(full, "rb").read()
        for cut in CUTS:
            if cut >= len(data):
                continue
            name = "t-%s-cut%d.%s" % (disk_format, cut, ext)
            with open(os.path.join(d, name), "wb") as f:
                f.write(data[:cut])
            out.append((name, os.path.join(d, name), disk_format))
    return out
