#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""An independent checker of carrefour's verifiable audit log.

Written from RFC 6962 / RFC 9162 (Merkle trees, inclusion and consistency
proofs) and the C2SP signed-note and tlog-checkpoint specifications, not from
carrefour's code: SHA-256 from hashlib, Ed25519 signatures checked by the
`openssl` command. Used by the end-to-end tests.

    audit_checker.py FILE.json
    audit_checker.py --transparency ANSWER.json KEY [KEY...]

The second form checks a saved answer of GET /v1/transparency as a citizen
portal would, from docs/transparency.md alone: every checkpoint signed by its
node's KEY, every listed record included, and the list complete (each node's
person index, a sparse Merkle tree whose root the node signs beside each
checkpoint).

FILE.json: {"verifier_key": "<name>+<hex id>+<base64 key>",
            "checkpoint": "<signed note>", "origin": "carrefour/<node>",
            "inclusion": [{"index", "tree_size", "leaf_hash", "proof": [hex]}],
            "consistency": [{"old_checkpoint": "<signed note>", "from", "to", "proof": [hex]}]}
Prints "ok" and exits 0 when everything verifies; prints what fails, exits 1.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

DASH = "\u2014"


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def parse_verifier_key(text):
    name, key_id, key = text.split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 verifier key")
    digest = hashlib.sha256(name.encode() + b"\n" + raw).digest()
    if digest[:4].hex() != key_id:
        raise ValueError("the key id does not match")
    return name, bytes.fromhex(key_id), raw[1:]


def ed25519_verify(public_key, message, signature):
    # SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed prefix, the key.
    der = bytes.fromhex("302a300506032b6570032100") + public_key
    pem = "-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----\n"
    with tempfile.TemporaryDirectory() as folder:
        paths = {n: os.path.join(folder, n) for n in ("key.pem", "message", "signature")}
        with open(paths["key.pem"], "w") as f:
            f.write(pem)
        with open(paths["message"], "wb") as f:
            f.write(message)
        with open(paths["signature"], "wb") as f:
            f.write(signature)
        result = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"], "-rawin",
             "-in", paths["message"], "-sigfile", paths["signature"]],
            capture_output=True)
        return result.returncode == 0


def open_checkpoint(note, verifier_key, origin):
    """The (size, root) of a signed checkpoint, or raises ValueError."""
    size, root, _ = open_checkpoint_with_extensions(note, verifier_key, origin)
    return size, root


def open_checkpoint_with_extensions(note, verifier_key, origin):
    """(size, root, {extension name: value}) of a signed checkpoint."""
    name, key_id, public_key = parse_verifier_key(verifier_key)
    split = note.rindex("\n\n")
    text, signatures = note[: split + 1], note[split + 2:]
    signed = False
    for line in signatures.splitlines():
        if not line.startswith(DASH + " "):
            raise ValueError("bad signature line: " + line)
        signer, blob = line[2:].split(" ")
        blob = base64.b64decode(blob, validate=True)
        if signer == name and blob[:4] == key_id:
            if not ed25519_verify(public_key, text.encode(), blob[4:]):
                raise ValueError("the checkpoint's signature does not verify")
            signed = True
    if not signed:
        raise ValueError("the checkpoint is not signed by " + name)
    lines = text.split("\n")
    if lines[0] != origin:
        raise ValueError("origin %r, expected %r" % (lines[0], origin))
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("the root is not 32 bytes")
    extensions = {}
    for line in lines[3:]:
        if line:
            name, _, value = line.partition(" ")
            extensions[name] = value
    return int(lines[1]), root, extensions


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second:
        return False
    if first & (first - 1) == 0:
        proof = [first_root] + proof
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def key_bit(key, depth):
    return (key[depth // 8] >> (7 - depth % 8)) & 1


def person_value(records):
    """be64(count) || acc over [(index, leaf hash)] in log order."""
    acc = bytes(32)
    for index, leaf in sorted(records):
        acc = hashlib.sha256(acc + index.to_bytes(8, "big") + leaf).digest()
    return len(records).to_bytes(8, "big") + acc


def verify_person_index(root, key, value, path, leaf):
    """Does the sparse Merkle proof (path: siblings from the root down; leaf:
    None or (key, value bytes) where the path ends) show key -> value, a
    count of 0 meaning absent?"""
    count = int.from_bytes(value[:8], "big")
    if len(path) > 256:
        return False
    if count > 0:
        if leaf is None or leaf != (key, value):
            return False
        h = hashlib.sha256(b"\x00" + key + value).digest()
    elif leaf is not None:
        other, other_value = leaf
        if other == key or any(key_bit(other, d) != key_bit(key, d) for d in range(len(path))):
            return False
        h = hashlib.sha256(b"\x00" + other + other_value).digest()
    else:
        h = bytes(32)
    for depth in reversed(range(len(path))):
        h = node_hash(h, path[depth]) if key_bit(key, depth) == 0 else node_hash(path[depth], h)
    return h == root


def check_transparency(answer, keys):
    failures = []
    by_name = {}
    for key in keys:
        by_name[key.split("+", 1)[0]] = key
    heads = {}
    for node, note in answer.get("checkpoints", {}).items():
        origin = "carrefour/" + node
        if origin not in by_name:
            failures.append("node %s: no key" % node)
            continue
        try:
            heads[node] = open_checkpoint_with_extensions(note, by_name[origin], origin)
        except (ValueError, IndexError) as error:
            failures.append("node %s: %s" % (node, error))
    for name in by_name:
        if name.startswith("carrefour/") and name[len("carrefour/"):] not in answer.get("checkpoints", {}):
            failures.append("node %s: no checkpoint in the answer" % name[len("carrefour/"):])
    listed = {}
    for position, item in enumerate(answer["consultations"]):
        node = item.get("node", answer.get("node"))
        leaf = bytes.fromhex(item["leaf_hash"])
        listed.setdefault(node, []).append((item["index"], leaf))
        if node not in heads:
            failures.append("consultation %d: no checkpoint of node %s" % (position, node))
            continue
        size, root, _ = heads[node]
        proof = [bytes.fromhex(h) for h in item["inclusion_proof"]]
        if item["tree_size"] != size or not verify_inclusion(item["index"], size, leaf, proof, root):
            failures.append("consultation %d: not included in node %s's checkpoint" % (position, node))
    index = answer.get("person_index")
    if not index:
        failures.append("no person index")
        return failures
    key = bytes.fromhex(index["key"])
    for node, (size, _, _) in heads.items():
        entry = index["nodes"].get(node)
        origin = "carrefour/" + node
        if entry is None or not entry.get("note"):
            failures.append("node %s: no signed person index note" % node)
            continue
        try:
            # The index root: a note like a checkpoint, signed by the node's
            # key, whose origin line is carrefour/<node>/person-index.
            index_size, index_root, _ = open_checkpoint_with_extensions(
                entry["note"], by_name[origin], origin + "/person-index")
        except (ValueError, IndexError) as error:
            failures.append("node %s: person index note: %s" % (node, error))
            continue
        if index_size != size or entry["tree_size"] != size:
            failures.append("node %s: the person index is not at the checkpoint's size" % node)
            continue
        leaf = entry.get("leaf")
        if leaf is not None:
            leaf = (bytes.fromhex(leaf["key"]),
                    leaf["count"].to_bytes(8, "big") + bytes.fromhex(leaf["accumulator"]))
        path = [bytes.fromhex(h) for h in entry["path"]]
        if not verify_person_index(index_root, key, person_value(listed.get(node, [])), path, leaf):
            failures.append("node %s: the records listed are not all the person's records in its log" % node)
    return failures


def main():
    if sys.argv[1] == "--transparency":
        with open(sys.argv[2]) as f:
            answer = json.load(f)
        failures = check_transparency(answer, sys.argv[3:])
        for failure in failures:
            print(failure)
        if not failures:
            print("ok")
        return 1 if failures else 0
    with open(sys.argv[1]) as f:
        claim = json.load(f)
    failures = []
    try:
        size, root = open_checkpoint(claim["checkpoint"], claim["verifier_key"], claim["origin"])
    except (ValueError, KeyError) as error:
        print("checkpoint: %s" % error)
        return 1
    for item in claim.get("inclusion", []):
        proof = [bytes.fromhex(h) for h in item["proof"]]
        if item["tree_size"] != size:
            failures.append("inclusion of %d: against size %d, the checkpoint has %d"
                            % (item["index"], item["tree_size"], size))
        elif not verify_inclusion(item["index"], size, bytes.fromhex(item["leaf_hash"]), proof, root):
            failures.append("inclusion of %d: the proof does not verify" % item["index"])
    for item in claim.get("consistency", []):
        try:
            old_size, old_root = open_checkpoint(item["old_checkpoint"], claim["verifier_key"], claim["origin"])
        except ValueError as error:
            failures.append("old checkpoint: %s" % error)
            continue
        proof = [bytes.fromhex(h) for h in item["proof"]]
        if item["from"] != old_size or item["to"] != size or not verify_consistency(old_size, size, old_root, root, proof):
            failures.append("consistency %d -> %d does not verify" % (item["from"], item["to"]))
    for failure in failures:
        print(failure)
    if not failures:
        print("ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
