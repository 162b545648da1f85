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
//
// A printed receipt's QR code holds only four lines (origin, "entry SEQ", the entry hash,
// "checkpoint SIZE ROOT"), often as a link to this page with the lines after "#". Those are
// checked against the log this site publishes, read from the site itself:
//  1. the published checkpoint is signed by the log key and cosigned by the witness quorum;
//  2. the published hash tiles rebuild the published root (RFC 9162), so they are that tree;
//  3. the QR's checkpoint is a prefix of it: the root rebuilt at the QR's size is the QR's
//     root (another root is a split view), and neither size nor seq lies beyond the log;
//  4. the entry published at SEQ hashes to the QR's entry hash, and that hash is leaf SEQ
//     of the published tree.
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

  // The lines shown for a verified entry, the same for a receipt file and a QR code. `how`
  // gives the wording that differs: the first line's ending, the tree line's noun, any lines
  // before the witnesses, and the closing line.
  function verifiedLines(record, event, size, witnessedBy, how) {
    const postings = record.postings
      .map((p) => p.account + " " + (p.amount > 0 ? "+" : "") + p.amount + " " + p.asset)
      .join("; ");
    const signers = record.signatures.map((s) => s.key_id).join(", ");
    const witnessZh = witnessedBy.length ? witnessedBy.join("、") : "无";
    const witnessEn = witnessedBy.length ? witnessedBy.join(", ") : "none";
    const when = event.type + "，" + (event.effective_at || "");
    const whenEn = event.type + ", " + (event.effective_at || "");
    return [
      [
        "第 " + record.seq + " 条记录（" + when + "）确实在公示的账本中" + how.inLogZh,
        "entry " + record.seq + " (" + whenEn + ") is in the published log" + how.inLogEn,
      ],
      ["记账：" + postings, "postings: " + postings],
      ["签名密钥：" + signers, "signed by keys: " + signers],
      [
        "日志公钥为 " + size + " 条记录的账本签了名：" + LOG.origin,
        "the log key signed the " + how.treeEn + " of " + size + " entries: " + LOG.origin,
      ],
      ...how.extra,
      ["见证人副签：" + witnessZh, "witness cosignatures: " + witnessEn],
      how.closing,
    ];
  }

  // Shows why a check failed: a Refused error in its own words, anything else as `what`.
  function showRefusal(err, whatZh, whatEn) {
    if (err instanceof Refused) {
      show("refused", "不予接受：" + err.zh, "Refused: " + err.en, []);
    } else {
      show("refused", "不予接受：" + whatZh, "Refused: " + whatEn + " (" + err + ")", []);
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
      show(
        "ok",
        "已核实。",
        "Verified.",
        verifiedLines(receipt, event, size, witnessedBy, {
          inLogZh: "",
          inLogEn: "",
          treeEn: "tree",
          extra: [],
          closing: [
            "这不证明签名人有权签署；账本在记账时已检查过。",
            "This does not prove the signers were authorised; the ledger checked that when it recorded the entry.",
          ],
        }),
      );
    } catch (err) {
      showRefusal(err, "凭证无法核对", "the receipt cannot be checked");
    }
  }

  document.getElementById("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) onFile(file);
  });

  // ------------------------------------------------------------------ the QR code's text

  const QR_MAX = 2000;

  // The four lines, from the text itself or from a link to this page ("...#<lines>").
  function parseQr(raw) {
    let text = String(raw).trim();
    if (text.length > QR_MAX) throw new Refused("二维码文字太长", "the QR text is too long");
    const hashAt = text.indexOf("#");
    if (hashAt >= 0) text = text.slice(hashAt + 1);
    if (text.includes("%")) {
      try {
        text = decodeURIComponent(text);
      } catch (err) {
        throw new Refused("二维码链接编码不对", "the QR link is badly encoded");
      }
    }
    const lines = text.replace(/\r\n/g, "\n").trim().split("\n").map((l) => l.trim());
    const entry = lines.length === 4 ? /^entry (0|[1-9][0-9]{0,15})$/.exec(lines[1]) : null;
    const cp = lines.length === 4 ? /^checkpoint (0|[1-9][0-9]{0,15}) (\S+)$/.exec(lines[3]) : null;
    if (!entry || !cp) {
      throw new Refused(
        "这不是积分账本凭证的二维码（应有四行：账本、entry 条目号、条目哈希、checkpoint 大小 根哈希）",
        "this is not a points-ledger receipt QR code (four lines: ledger, entry SEQ, entry hash, checkpoint SIZE ROOT)",
      );
    }
    const seq = Number(entry[1]);
    const size = Number(cp[1]);
    if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(size)) {
      throw new Refused("数字超出范围", "a number in the QR text is out of range");
    }
    const entryHash = b64(lines[2], "entry hash");
    const root = b64(cp[2], "root");
    if (entryHash.length !== 32 || root.length !== 32) {
      throw new Refused("哈希不是 32 字节", "a hash in the QR text is not 32 bytes");
    }
    return { origin: lines[0], seq, entryHash, size, root, rootText: cp[2] };
  }

  function tilePath(level, index, width) {
    let digits = String(index);
    digits = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
    const parts = digits.match(/.../g);
    const encoded = parts.map((p, i) => (i < parts.length - 1 ? "x" + p : p)).join("/");
    return "tile/" + level + "/" + encoded + (width === 256 ? "" : ".p/" + width);
  }

  async function fetchSite(path, asText) {
    let response;
    try {
      response = await fetch(path, { cache: "no-store" });
    } catch (err) {
      response = null;
    }
    if (!response || !response.ok) {
      throw new Refused(
        "读不到本站公示的 " + path + "（网络断开，或网站不完整）",
        "cannot read the published " + path + " (offline, or the site is incomplete)",
      );
    }
    return asText ? response.text() : new Uint8Array(await response.arrayBuffer());
  }

  // Every leaf hash of the published tree of `size` entries, from its level-0 hash tiles.
  async function publishedLeaves(size) {
    const leaves = [];
    for (let n = 0; n * 256 < size; n++) {
      const width = Math.min(256, size - n * 256);
      const tile = await fetchSite(tilePath(0, n, width), false);
      if (tile.length !== width * 32) {
        throw new Refused("公示的哈希分片长度不对", "a published hash tile has the wrong length");
      }
      for (let i = 0; i < width; i++) leaves.push(tile.slice(i * 32, i * 32 + 32));
    }
    return leaves;
  }

  // levels[h][i]: the hash of leaves i*2^h .. (i+1)*2^h - 1 (complete subtrees only).
  async function completeSubtrees(leaves) {
    const levels = [leaves];
    while (levels[levels.length - 1].length > 1) {
      const below = levels[levels.length - 1];
      const above = [];
      for (let i = 0; i + 1 < below.length; i += 2) {
        above.push(await sha256(concat(new Uint8Array([1]), below[i], below[i + 1])));
      }
      levels.push(above);
    }
    return levels;
  }

  // RFC 9162 root of the first `size` leaves: its complete subtrees, largest first, folded
  // from the right.
  async function rootAt(levels, size) {
    if (size === 0) return sha256(new Uint8Array(0));
    const parts = [];
    let start = 0;
    for (let h = levels.length - 1; h >= 0; h--) {
      if (size - start >= 2 ** h) {
        parts.push(levels[h][start / 2 ** h]);
        start += 2 ** h;
      }
    }
    let root = parts.pop();
    while (parts.length) root = await sha256(concat(new Uint8Array([1]), parts.pop(), root));
    return root;
  }

  async function checkQr(raw) {
    if (!window.isSecureContext || !crypto.subtle) {
      throw new Refused(
        "此浏览器不能在这里进行密码学核对（需要 https、localhost 或本地文件）",
        "this browser cannot run the cryptographic check here (needs https, localhost or a local file)",
      );
    }
    const qr = parseQr(raw);
    if (qr.origin !== LOG.origin) {
      throw new Refused(
        "这张凭证属于另一个账本：" + qr.origin,
        "this receipt belongs to another ledger: " + qr.origin,
      );
    }
    if (location.protocol === "file:") {
      throw new Refused(
        "从文件夹打开本页时，浏览器不允许读取账本数据，无法核对二维码。请打开公示网站上的本页，或改用凭证文件（.json）。",
        "opened from a folder, the browser may not read the log data, so a QR code cannot be checked here. Open this page on the published site, or use the receipt file (.json).",
      );
    }
    // 1. The published checkpoint, signed by the log key and the witness quorum.
    const published = splitNote(await fetchSite("checkpoint", true));
    if (!(await signedBy(published, await parseVkey(LOG.logKey)))) {
      throw new Refused(
        "本站公示的检查点没有日志公钥的有效签名：网站被改动过",
        "the published checkpoint is not signed by the log key: the site was changed",
      );
    }
    const lines = published.text.slice(0, -1).split("\n");
    const size = Number(lines[1]);
    if (lines[0] !== LOG.origin || !Number.isSafeInteger(size)) {
      throw new Refused("检查点格式不对", "the checkpoint is malformed");
    }
    const witnessedBy = [];
    for (const vkey of LOG.witnesses) {
      const witness = await parseVkey(vkey);
      if (await signedBy(published, witness)) witnessedBy.push(witness.name);
    }
    if (witnessedBy.length < LOG.quorum) {
      throw new Refused(
        "见证人副签不足：需要 " + LOG.quorum + " 个，只有 " + witnessedBy.length + " 个",
        "not enough witness cosignatures: " + LOG.quorum + " needed, " + witnessedBy.length + " found",
      );
    }
    // 3 (bounds first). Nothing the QR names may lie beyond the published log.
    if (qr.size > size || qr.seq >= size) {
      throw new Refused(
        "二维码所指的记录超出了公示的账本（公示 " + size + " 条）：二维码被改动过，或账本被截短",
        "the QR code points beyond the published log (" + size + " entries): the QR text was altered, or the log was cut short",
      );
    }
    if (qr.seq >= qr.size) {
      throw new Refused("条目不在二维码的检查点内", "the entry is not in the QR code's checkpoint");
    }
    // 2. The tiles are the published tree.
    const leaves = await publishedLeaves(size);
    const levels = await completeSubtrees(leaves);
    if (!equal(await rootAt(levels, size), b64(lines[2], "root"))) {
      throw new Refused(
        "公示的哈希分片与公示的检查点不符：网站被改动过",
        "the published hash tiles do not give the published root: the site was changed",
      );
    }
    // 3. The QR's checkpoint is a prefix of the published one.
    const known = LOG.checkpoints.find((c) => c[0] === qr.size);
    if (!equal(await rootAt(levels, qr.size), qr.root) || (known && known[1] !== qr.rootText)) {
      throw new Refused(
        "分叉视图：二维码中 " + qr.size + " 条记录的根哈希与公示的账本不同。二维码被改动过，或办公室签过另一个版本的账本；此凭证不能证明任何事，请报告审计人。",
        "split view: the QR code's root for " + qr.size + " entries is not the published log's. The QR text was altered, or the office signed another history; this receipt proves nothing, report it to the auditor.",
      );
    }
    // 4. The entry published at seq hashes to the QR's entry hash, a leaf of the tree.
    const bundle = Math.floor(qr.seq / 256);
    const width = Math.min(256, size - bundle * 256);
    const path = "entries/" + tilePath("entries", bundle, width).slice("tile/entries/".length) + ".json";
    let records;
    try {
      records = JSON.parse(await fetchSite(path, true));
    } catch (err) {
      if (err instanceof Refused) throw err;
      throw new Refused("公示的条目数据不是 JSON", "the published entry data is not JSON");
    }
    const record = Array.isArray(records) ? records[qr.seq % 256] : null;
    if (!record || record.seq !== qr.seq) {
      throw new Refused("公示的条目数据不完整", "the published entry data is incomplete");
    }
    const recomputed = await entryHash({ ...record, format: RECEIPT_V2 });
    if (!equal(recomputed, qr.entryHash)) {
      throw new Refused(
        "条目哈希不符：公示的第 " + qr.seq + " 条记录不是二维码所说的那一条。二维码被改动过。",
        "wrong entry hash: the published entry " + qr.seq + " is not the one the QR code names. The QR text was altered.",
      );
    }
    const leaf = await sha256(concat(new Uint8Array([0]), recomputed));
    if (!equal(leaf, leaves[qr.seq])) {
      throw new Refused(
        "公示的条目数据与哈希分片不符：网站被改动过",
        "the published entry data does not match the hash tiles: the site was changed",
      );
    }
    const event = JSON.parse(new TextDecoder().decode(b64(record.event, "event")));
    return { record, event, size, qrSize: qr.size, witnessedBy };
  }

  async function onQr(raw) {
    try {
      const { record, event, size, qrSize, witnessedBy } = await checkQr(raw);
      show(
        "ok",
        "已核实（二维码）。",
        "Verified (QR code).",
        verifiedLines(record, event, size, witnessedBy, {
          inLogZh: "，其哈希与二维码相同",
          inLogEn: " and has the QR code's hash",
          treeEn: "published tree",
          extra: [
            [
              "二维码中 " + qrSize + " 条记录的检查点是公示账本的前缀（同一段历史）",
              "the QR code's checkpoint of " + qrSize + " entries is a prefix of the published log (the same history)",
            ],
          ],
          closing: [
            "核对所用的数据全部来自本站公示的日志；这不证明签名人有权签署，账本在记账时已检查过。",
            "Everything was checked against the log this site publishes; this does not prove the signers were authorised, the ledger checked that when it recorded the entry.",
          ],
        }),
      );
    } catch (err) {
      showRefusal(err, "二维码无法核对", "the QR code cannot be checked");
    }
  }

  function fromAddress() {
    if (location.hash.length > 1) {
      const box = document.getElementById("qr-text");
      try {
        box.value = decodeURIComponent(location.hash.slice(1));
      } catch (err) {
        box.value = location.hash.slice(1);
      }
      onQr(location.hash);
    }
  }

  document.getElementById("qr-check").addEventListener("click", () => {
    onQr(document.getElementById("qr-text").value);
  });
  window.addEventListener("hashchange", fromAddress);

  const photo = document.getElementById("qr-photo");
  const note = document.getElementById("scan-note");
  if (!("BarcodeDetector" in window)) {
    photo.disabled = true;
    note.dataset.scan = "unavailable";
    note.textContent =
      "此浏览器不能识别二维码图片。请用手机自带的相机扫描纸质凭证上的二维码，或把二维码文字粘贴到上面。 — " +
      "This browser cannot read QR codes from pictures. Scan the printed QR code with the phone's own camera app, or paste the QR code's text above.";
  } else {
    note.dataset.scan = "available";
    photo.addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try {
        const detector = new BarcodeDetector({ formats: ["qr_code"] });
        const codes = await detector.detect(await createImageBitmap(file));
        if (!codes.length) {
          show("refused", "照片中没有找到二维码", "No QR code found in the picture", []);
          return;
        }
        document.getElementById("qr-text").value = codes[0].rawValue;
        onQr(codes[0].rawValue);
      } catch (err) {
        show("refused", "无法读取这张照片", "Cannot read this picture (" + err + ")", []);
      }
    });
  }

  fromAddress();
})();
