// Checks a points-ledger receipt in the browser, offline, against the published log.
//
// What it checks, in order (the same rules as points_ledger.receipts.verify_receipt):
//  1. the receipt's checkpoint is signed by the published log key (C2SP signed-note, Ed25519);
//  2. that checkpoint (size, root) is one this site published: a checkpoint of the same size
//     with another root is a split view (the office signed two histories) and is refused;
//  3. witness cosignatures (C2SP tlog-cosignature/v1) by the published witness keys, at least
//     the published quorum;
//  4. the entry's fields hash to its entry hash (RFC 8785 header, SHA-256);
//  5. the entry hash is leaf `seq` of the checkpoint's tree (RFC 9162 inclusion proof).
// Cryptography is the browser's own (WebCrypto: SHA-256 and Ed25519); nothing is sent anywhere.
"use strict";

(function () {
  const LOG = window.POINTS_LEDGER_LOG;
  const ENTRY_DOMAIN = "points-ledger/v1/entry\n";
  const RECEIPT_V1 = "points-ledger-receipt/v1";
  const RECEIPT_V2 = "points-ledger-receipt/v2";
  const enc = new TextEncoder();

  class Refused extends Error {
    constructor(zh, en) {
      super(en);
      this.zh = zh;
      this.en = en;
    }
  }

  function b64(text, what) {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      throw new Refused(what + " 不是 base64", what + " is not base64");
    }
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A 32-byte hash field of a receipt as lower-case hex: receipts of format v1 carry hex,
  // v2 (the current one) carries standard base64.
  function hashHex(receipt, name) {
    const value = receipt[name];
    if (receipt.format === RECEIPT_V1) {
      if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) {
        throw new Refused(name + " 不是 64 位十六进制", name + " is not 64 hex digits");
      }
      return value;
    }
    const raw = b64(value, name);
    if (raw.length !== 32) {
      throw new Refused(name + " 不是 32 字节", name + " is not 32 bytes");
    }
    return hex(raw);
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  async function ed25519Verify(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
      "verify",
    ]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  // A verifier key: name+hex8+base64(type || public key).
  async function parseVkey(vkey) {
    // The name holds no "+"; the base64 key after the id may.
    const first = vkey.indexOf("+");
    const second = vkey.indexOf("+", first + 1);
    if (first < 1 || second < 0) throw new Refused("公钥格式不对", "a published key is malformed");
    const name = vkey.slice(0, first);
    const id = vkey.slice(first + 1, second);
    const data = vkey.slice(second + 1);
    const raw = b64(data, "key");
    const kid = (await sha256(concat(enc.encode(name + "\n"), raw))).slice(0, 4);
    if (hex(kid) !== id.toLowerCase() || raw.length !== 33) {
      throw new Refused("公钥格式不对", "a published key is malformed");
    }
    return { name, keyId: kid, algorithm: raw[0], publicKey: raw.slice(1) };
  }

  function splitNote(note) {
    const at = note.indexOf("\n\n");
    if (at < 0) throw new Refused("检查点没有签名", "the checkpoint carries no signature");
    const text = note.slice(0, at + 1);
    const lines = note
      .slice(at + 2)
      .split("\n")
      .filter((l) => l !== "");
    const signatures = lines.map((line) => {
      if (!line.startsWith("\u2014 ")) throw new Refused("签名行格式不对", "a bad signature line");
      const [name, data] = line.slice(2).split(" ");
      return { name, data: b64(data, "signature") };
    });
    return { text, signatures };
  }

  async function signedBy(note, verifier) {
    for (const sig of note.signatures) {
      if (sig.name !== verifier.name || !equal(sig.data.slice(0, 4), verifier.keyId)) continue;
      if (verifier.algorithm === 0x01 && sig.data.length === 68) {
        if (await ed25519Verify(verifier.publicKey, sig.data.slice(4), enc.encode(note.text))) {
          return true;
        }
      } else if (verifier.algorithm === 0x04 && sig.data.length === 76) {
        let time = 0n;
        for (const byte of sig.data.slice(4, 12)) time = (time << 8n) | BigInt(byte);
        const message = enc.encode("cosignature/v1\ntime " + time.toString() + "\n" + note.text);
        if (await ed25519Verify(verifier.publicKey, sig.data.slice(12), message)) return true;
      }
    }
    return false;
  }

  // RFC 8785 for the values an entry header holds (strings, safe integers, arrays, objects).
  function canonical(value) {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value !== null && typeof value === "object") {
      const keys = Object.keys(value).sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
    }
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new Refused("数字超出范围", "a number in the receipt is out of range");
    }
    return JSON.stringify(value);
  }

  async function entryHash(receipt) {
    const header = {
      v: 1,
      seq: receipt.seq,
      recorded_at_us: receipt.recorded_at_us,
      prev_hash: hashHex(receipt, "prev_hash"),
      event_sha256: hex(await sha256(b64(receipt.event, "event"))),
      signatures: receipt.signatures.map((s) => ({ key_id: s.key_id, sig: s.signature })),
      postings: receipt.postings.map((p) => ({
        account: p.account,
        asset: p.asset,
        amount: p.amount,
      })),
    };
    return sha256(concat(enc.encode(ENTRY_DOMAIN), enc.encode(canonical(header))));
  }

  // RFC 9162 section 2.1.3.2.
  async function rootFromInclusion(leaf, index, size, proof) {
    if (index >= size) throw new Refused("条目不在该检查点内", "the entry is not in that tree");
    let fn = index;
    let sn = size - 1;
    let r = await sha256(concat(new Uint8Array([0]), leaf));
    for (const p of proof) {
      if (sn === 0) throw new Refused("包含证明过长", "the inclusion proof is too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(new Uint8Array([1]), p, r));
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await sha256(concat(new Uint8Array([1]), r, p));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Refused("包含证明过短", "the inclusion proof is too short");
    return r;
  }

  async function check(receipt) {
    if (!window.isSecureContext || !crypto.subtle) {
      throw new Refused(
        "此浏览器不能在这里进行密码学核对（需要 https、localhost 或本地文件）",
        "this browser cannot run the cryptographic check here (needs https, localhost or a local file)",
      );
    }
    if (!receipt || (receipt.format !== RECEIPT_V1 && receipt.format !== RECEIPT_V2)) {
      throw new Refused("这不是积分账本的凭证文件", "this is not a points-ledger receipt");
    }
    if (receipt.origin !== LOG.origin) {
      throw new Refused(
        "这张凭证属于另一个账本：" + receipt.origin,
        "this receipt belongs to another ledger: " + receipt.origin,
      );
    }
    const logKey = await parseVkey(LOG.logKey);
    const note = splitNote(receipt.checkpoint);
    if (!(await signedBy(note, logKey))) {
      throw new Refused(
        "检查点没有本账本日志公钥的有效签名：凭证被改动过，或来自别处",
        "the checkpoint is not signed by this ledger's log key: the receipt was changed or comes from elsewhere",
      );
    }
    const lines = note.text.slice(0, -1).split("\n");
    const size = Number(lines[1]);
    const root = lines[2];
    if (lines[0] !== LOG.origin || !Number.isSafeInteger(size)) {
      throw new Refused("检查点格式不对", "the checkpoint is malformed");
    }
    const published = LOG.checkpoints.find((c) => c[0] === size);
    if (published && published[1] !== root) {
      throw new Refused(
        "分叉视图：办公室为同样 " + size + " 条记录签过另一个版本的账本。此凭证不能证明任何事，请报告审计人。",
        "split view: the office signed a different history of the same " +
          size +
          " entries. This receipt proves nothing; report it to the auditor.",
      );
    }
    if (!published) {
      throw new Refused(
        "此凭证的检查点（" + size + " 条）没有在本站公示过",
        "this receipt's checkpoint (" + size + " entries) was never published on this site",
      );
    }
    const witnessedBy = [];
    for (const vkey of LOG.witnesses) {
      const witness = await parseVkey(vkey);
      if (await signedBy(note, witness)) witnessedBy.push(witness.name);
    }
    if (witnessedBy.length < LOG.quorum) {
      throw new Refused(
        "见证人副签不足：需要 " + LOG.quorum + " 个，只有 " + witnessedBy.length + " 个",
        "not enough witness cosignatures: " + LOG.quorum + " needed, " + witnessedBy.length + " found",
      );
    }
    const stated = hashHex(receipt, "entry_hash");
    const recomputed = hex(await entryHash(receipt));
    if (recomputed !== stated) {
      throw new Refused(
        "条目内容与其哈希不符：凭证被改动过",
        "the entry's fields do not match its hash: the receipt was altered",
      );
    }
    if (receipt.leaf_index !== receipt.seq) {
      throw new Refused("叶子序号与条目序号不符", "the leaf index is not the entry's number");
    }
    const proof = receipt.inclusion_proof.map((p) => b64(p, "proof"));
    const leaf = new Uint8Array(stated.match(/../g).map((h) => parseInt(h, 16)));
    const computed = await rootFromInclusion(leaf, receipt.seq, size, proof);
    if (!equal(computed, b64(root, "root"))) {
      throw new Refused(
        "包含证明不成立：此条目不在公示的账本中",
        "the inclusion proof fails: this entry is not in the published log",
      );
    }
    const event = JSON.parse(new TextDecoder().decode(b64(receipt.event, "event")));
    return { event, size, witnessedBy };
  }

  function show(verdict, zh, en, details) {
    const box = document.getElementById("result");
    box.className = "result " + verdict;
    box.dataset.verdict = verdict === "ok" ? "accepted" : "refused";
    box.replaceChildren();
    const head = document.createElement("p");
    const z = document.createElement("strong");
    z.lang = "zh-CN";
    z.textContent = zh;
    const e = document.createElement("span");
    e.lang = "en";
    e.textContent = " " + en;
    head.append(z, e);
    box.append(head);
    for (const [dz, de] of details) {
      const p = document.createElement("p");
      p.textContent = dz + " — " + de;
      box.append(p);
    }
  }

  async function onFile(file) {
    let receipt;
    try {
      receipt = JSON.parse(await file.text());
    } catch (err) {
      show("refused", "不予接受：文件不是 JSON", "Refused: the file is not JSON", []);
      return;
    }
    try {
      const { event, size, witnessedBy } = await check(receipt);
      const postings = receipt.postings
        .map((p) => p.account + " " + (p.amount > 0 ? "+" : "") + p.amount + " " + p.asset)
        .join("; ");
      const signers = receipt.signatures.map((s) => s.key_id).join(", ");
      const witnessZh = witnessedBy.length ? witnessedBy.join("、") : "无";
      const witnessEn = witnessedBy.length ? witnessedBy.join(", ") : "none";
      show("ok", "已核实。", "Verified.", [
        [
          "第 " + receipt.seq + " 条记录（" + event.type + "，" + (event.effective_at || "") + "）确实在公示的账本中",
          "entry " + receipt.seq + " (" + event.type + ", " + (event.effective_at || "") + ") is in the published log",
        ],
        ["记账：" + postings, "postings: " + postings],
        ["签名密钥：" + signers, "signed by keys: " + signers],
        [
          "日志公钥为 " + size + " 条记录的账本签了名：" + LOG.origin,
          "the log key signed the tree of " + size + " entries: " + LOG.origin,
        ],
        ["见证人副签：" + witnessZh, "witness cosignatures: " + witnessEn],
        [
          "这不证明签名人有权签署；账本在记账时已检查过。",
          "This does not prove the signers were authorised; the ledger checked that when it recorded the entry.",
        ],
      ]);
    } catch (err) {
      if (err instanceof Refused) {
        show("refused", "不予接受：" + err.zh, "Refused: " + err.en, []);
      } else {
        show("refused", "不予接受：凭证无法核对", "Refused: the receipt cannot be checked (" + err + ")", []);
      }
    }
  }

  document.getElementById("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) onFile(file);
  });
})();
