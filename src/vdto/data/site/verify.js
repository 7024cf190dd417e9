/* In-browser check of a published vdto scorecard site: what the reader sees is what the agencies
   signed. A port of vdto.publication.sitecheck.verify_site (with the ledger's verify and
   verify_proof, the signed notes and the Merkle proofs it calls) that runs the same checks in the
   same order and writes the same one-line problems, so the page's verdict and `vdto verify SITE`'s
   agree. It reads only files of the page's own folder (same-folder relative fetches), uses no
   library, and does its hashing (SHA-256) and signature checks (Ed25519) with WebCrypto.

   The result goes into <div id="vdto-verify">: data-state "ok", "failed" or "unavailable", and for
   "ok" and "failed" data-verdict, the JSON {"ok", "where", "problem"} of SiteReport.verdict(),
   with a few sentences in Spanish and English (data-lang spans, as the rest of the page). The
   browser acts as a witness: it keeps in localStorage the largest checkpoint it verified for each
   log, and on a later visit the ledger must contain that tree. Opened from disk (file://), the page
   cannot read its folder: it says so and offers a folder picker that runs the same checks.

   Python semantics kept exactly (a ledger line is checked as Python reads it): JSON is parsed as
   Python's json.loads does (ints and floats told apart, NaN and Infinity read, the last of
   duplicate keys kept in the first one's place) and a line is canonical when Python's
   json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) of it gives it back:
   pyDumps below writes floats as Python's repr (the shortest round-trip digits, which JavaScript's
   Number-to-string also gives, in Python's layout), sorts keys by code point and escapes as Python
   does. Messages quote values as Python's repr(). On a canonical line the payload's bytes are
   exactly the text between `"payload":` and `,"payload_sha256":"`, and the bytes of the entry
   hash the line without its leading `"hash":"<64 hex>",`; re-serialising gives those same bytes,
   so the hashes are over the line as written.

   Not exact (marked "Not exact:" next to the code), none of which vdto ever writes:
   - Unicode tables: Python's \d (a time's digits) and str.isprintable() (what repr() escapes) use
     Python's Unicode version, the browser its own; characters assigned in between can differ.
   - JSON nested deeper than 1000 levels: Python's limit depends on its stack in use.
   - Where Python raises instead of giving a verdict (a key-change naming a list or an object as
     agency, a proof line holding a lone surrogate), this file reports a failure.
   - Over http(s) the page reads the files the site entry signs, but cannot see a file added to
     the folder (a web server lists no folder); the folder picker sees every file, as the command
     line does. A name that is not a plain relative path is reported missing without a request.
   - witnesses.txt stands for the command line's --witness; a malformed line fails the page's
     check ("witnesses.txt: line N: ...") where the command line refuses the file as bad input.
   - No keys are pinned (verify_site with trusted=None): the keys are those the rule declares. */
(function (global) {
  "use strict";

  // --------------------------------------------------------------------------------- constants

  const PROOF_FILES = ["ledger.jsonl", "ledger.jsonl.checkpoints", "checkpoint.txt", "proof.json", "witnesses.txt"];
  const SITE_KIND = "site";
  const KEY_CHANGE = "key-change";
  const ZERO_HASH = "0".repeat(64);
  const ORIGIN_PREFIX = "vdto.ledger/";
  const ENTRY_KEYS = ["seq", "kind", "time", "prev", "payload", "payload_sha256", "signatures", "hash"];
  const SIGNATURE_KEYS = ["agency", "key", "sig"];
  const SIGNED_FIELDS = ["kind", "payload_sha256", "prev", "quorum", "seq", "time"];
  const KIND_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
  const HEX64_RE = /^[0-9a-f]{64}$/;
  const HEX128_RE = /^[0-9a-f]{128}$/;
  const AGENCY_RE = /^[a-z0-9_-]{1,32}$/;
  const WITNESS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,127}$/;
  // Python's \d is any Unicode decimal digit (Not exact: Python's Unicode tables may be older).
  const ND = "\\p{Nd}";
  const TIME_RE = new RegExp(`^${ND}{4}-${ND}{2}-${ND}{2}T${ND}{2}:${ND}{2}:${ND}{2}Z$`, "u");
  // datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ"): the regular expression Python's _strptime builds
  const STRPTIME_RE = new RegExp(
    `^(${ND}${ND}${ND}${ND})-(1[0-2]|0[1-9]|[1-9])-(3[0-1]|[1-2]${ND}|0[1-9]|[1-9]| [1-9])` +
      `T(2[0-3]|[0-1]${ND}|${ND}):([0-5]${ND}|${ND}):(6[0-1]|[0-5]${ND}|${ND})Z`,
    "iu"
  );
  const ND_ONE = /^\p{Nd}$/u;
  // note.py
  const SIGNATURE_PREFIX = "\u2014 ";
  const MAX_NOTE_BYTES = 256 * 1024;
  const MAX_SIGNATURES = 100;
  const MAX_ORIGIN_CHARS = 255;
  const MAX_TREE_SIZE = 2n ** 64n - 1n;
  const MAX_TIMESTAMP = 2n ** 63n - 1n;
  const ALG_ED25519 = 0x01;
  const ALG_COSIGNATURE_V1 = 0x04;
  const SIZE_RE = /^(?:0|[1-9][0-9]*)$/;
  const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  const CONTROL_RE = /[\x00-\x09\x0b-\x1f]/;
  // str.isspace() in Python
  const PY_SPACE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
  const PY_STRIP = /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
  // characters str.__repr__ escapes (str.isprintable() is False); Not exact: Unicode versions
  const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;
  // Python's json decoder recursion guard (Not exact: Python's depends on its stack in use)
  const MAX_DEPTH = 1000;
  const STORE_PREFIX = "vdto.checkpoint.";

  // ------------------------------------------------------------------------------------ errors

  class NoteError extends Error {
    constructor(what) {
      super(what);
      this.what = what;
    }
  }
  class JsonError extends Error {}
  class NotJsonValue extends Error {}
  class Unavailable extends Error {
    constructor(why) {
      super(why);
      this.why = why;
    }
  }

  // ------------------------------------------------------------------------------------ bytes

  const encoder = new TextEncoder();
  const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  function utf8(text) {
    return encoder.encode(text);
  }
  function decodeUtf8(bytes) {
    try {
      return strictDecoder.decode(bytes);
    } catch (error) {
      return null;
    }
  }
  /** Path.read_text(encoding="utf-8"): strict UTF-8, universal newlines. */
  function readText(bytes) {
    const text = decodeUtf8(bytes);
    return text === null ? null : text.replace(/\r\n?/g, "\n");
  }
  function hasLoneSurrogate(text) {
    return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
  }
  function toHex(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }
  function fromHex(text) {
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function concat(...parts) {
    let size = 0;
    for (const p of parts) size += p.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  function sameBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function splitBytes(bytes, byte) {
    const parts = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === byte) {
        parts.push(bytes.subarray(start, i));
        start = i + 1;
      }
    }
    parts.push(bytes.subarray(start));
    return parts;
  }
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function b64encode(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < bytes.length ? B64[n & 63] : "=";
    }
    return out;
  }
  /** Base64 data characters (no padding) to bytes, unused low bits ignored. */
  function b64data(text) {
    const out = [];
    let acc = 0;
    let bits = 0;
    for (const ch of text) {
      acc = (acc << 6) | B64.indexOf(ch);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push((acc >> bits) & 255);
      }
      acc &= (1 << bits) - 1;
    }
    return Uint8Array.from(out);
  }
  /** note._b64decode: standard base64 with padding, in its one canonical spelling; null if not. */
  function b64decode(text) {
    if (!BASE64_RE.test(text)) return null;
    const data = b64data(text.replace(/=+$/, ""));
    return b64encode(data) === text ? data : null;
  }
  /** base64.b64decode(text, validate=True) as witness.parse_vkey uses it; null where it raises. */
  function b64decodeLenient(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
    const data = text.replace(/=+$/, "");
    const pads = text.length - data.length;
    const rest = data.length % 4;
    if (rest === 1 || (rest === 2 && pads < 2) || (rest === 3 && pads < 1)) return null;
    return b64data(data);
  }

  // ----------------------------------------------------------------------------------- crypto

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  async function sha256hex(bytes) {
    return toHex(await sha256(bytes));
  }
  const importedKeys = new Map();
  async function ed25519Verifies(publicKey, signature, message) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    const id = toHex(publicKey);
    let key = importedKeys.get(id);
    if (key === undefined) {
      try {
        key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      } catch (error) {
        return false;
      }
      importedKeys.set(id, key);
    }
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch (error) {
      return false;
    }
  }
  /** Whether WebCrypto does SHA-256 and Ed25519 here: RFC 8032's first test vector. */
  async function cryptoWorks() {
    if (!global.crypto || !global.crypto.subtle) return false;
    try {
      const pub = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
      const sig = fromHex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
      );
      const ok = await ed25519Verifies(pub, sig, new Uint8Array(0));
      const bad = await ed25519Verifies(pub, sig, Uint8Array.of(1));
      return ok && !bad && (await sha256hex(new Uint8Array(0))).startsWith("e3b0c442");
    } catch (error) {
      return false;
    }
  }

  // ----------------------------------------------------------------- Python values: read, write

  /* Values as Python's json.loads gives them: null (None), booleans, bigint (int), number (float,
     NaN and infinities included), string, Array (list), Map (dict, in the order of the text). */

  function pyType(v) {
    if (v === null) return "NoneType";
    if (typeof v === "boolean") return "bool";
    if (typeof v === "bigint") return "int";
    if (typeof v === "number") return "float";
    if (typeof v === "string") return "str";
    if (Array.isArray(v)) return "list";
    return "dict";
  }
  function isDict(v) {
    return v instanceof Map;
  }
  function pget(dict, key, fallback) {
    return dict.has(key) ? dict.get(key) : fallback === undefined ? null : fallback;
  }
  /** Python's order of str: by code point (JavaScript's < compares UTF-16 units). */
  function cmpStr(a, b) {
    if (a === b) return 0;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a.codePointAt(i);
      const y = b.codePointAt(j);
      if (x !== y) return x < y ? -1 : 1;
      i += x > 0xffff ? 2 : 1;
      j += y > 0xffff ? 2 : 1;
    }
    return i < a.length ? 1 : j < b.length ? -1 : 0;
  }
  function sortedStr(items) {
    return Array.from(items).sort(cmpStr);
  }
  /** Python's == between JSON values (True == 1 == 1.0). */
  function pyEq(a, b) {
    const num = (v) => typeof v === "bigint" || typeof v === "number" || typeof v === "boolean";
    if (num(a) && num(b)) {
      const x = typeof a === "boolean" ? (a ? 1n : 0n) : a;
      const y = typeof b === "boolean" ? (b ? 1n : 0n) : b;
      return x == y; // bigint and number compare exactly
    }
    if (typeof a === "string" || typeof b === "string" || a === null || b === null) return a === b;
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every((v, i) => pyEq(v, b[i]));
    }
    if (isDict(a) && isDict(b)) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (!b.has(k) || !pyEq(v, b.get(k))) return false;
      return true;
    }
    return false;
  }
  function codePoints(text) {
    return Array.from(text);
  }
  function cpSlice(text, end) {
    return codePoints(text).slice(0, end).join("");
  }

  /** json.loads(text) as Python reads it; throws JsonError where Python raises ValueError. */
  function pyLoads(text) {
    const n = text.length;
    let i = 0;
    let depth = 0;
    const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
    // the words Python's json module reads besides numbers, strings, arrays and objects
    const LITERALS = [["null", null], ["true", true], ["false", false], ["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity]];
    const fail = () => {
      throw new JsonError("not JSON");
    };
    const ws = () => {
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 32 || c === 9 || c === 10 || c === 13) i++;
        else break;
      }
    };
    const hex4 = (at) => {
      if (at + 4 > n) fail();
      let v = 0;
      for (let k = at; k < at + 4; k++) {
        const d = parseInt(text[k], 16);
        if (!/[0-9a-fA-F]/.test(text[k])) fail();
        v = v * 16 + d;
      }
      return v;
    };
    const string = () => {
      i++;
      let out = "";
      let start = i;
      for (;;) {
        if (i >= n) fail();
        const c = text.charCodeAt(i);
        if (c === 34) {
          out += text.slice(start, i);
          i++;
          return out;
        }
        if (c < 0x20) fail(); // strict: no control characters inside strings
        if (c !== 92) {
          i++;
          continue;
        }
        out += text.slice(start, i);
        i++;
        if (i >= n) fail();
        const e = text[i];
        if (e === '"' || e === "\\" || e === "/") out += e;
        else if (e === "b") out += "\b";
        else if (e === "f") out += "\f";
        else if (e === "n") out += "\n";
        else if (e === "r") out += "\r";
        else if (e === "t") out += "\t";
        else if (e === "u") {
          if (i + 5 >= n) fail();
          let code = hex4(i + 1);
          i += 4;
          if (code >= 0xd800 && code <= 0xdbff && i + 7 < n && text[i + 1] === "\\" && text[i + 2] === "u") {
            const low = hex4(i + 3);
            if (low >= 0xdc00 && low <= 0xdfff) {
              code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
              i += 6;
            }
          }
          out += String.fromCodePoint(code);
        } else fail();
        i++;
        start = i;
      }
    };
    const value = () => {
      if (i >= n) fail();
      const c = text[i];
      if (c === '"') return string();
      if (c === "{") return object();
      if (c === "[") return array();
      for (const [word, value] of LITERALS) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return value;
        }
      }
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) fail();
      i = NUMBER.lastIndex;
      if (m[1] !== undefined || m[2] !== undefined) return Number(m[0]);
      if (m[0].replace("-", "").length > 4300) fail(); // Python's int limit on digits
      return BigInt(m[0]);
    };
    const object = () => {
      if (++depth > MAX_DEPTH) fail();
      i++;
      const out = new Map();
      ws();
      if (text[i] === "}") {
        i++;
        depth--;
        return out;
      }
      for (;;) {
        if (text[i] !== '"') fail();
        const key = string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        ws();
        out.set(key, value()); // a repeated key keeps its first place and takes the last value
        ws();
        if (text[i] === "}") {
          i++;
          depth--;
          return out;
        }
        if (text[i] !== ",") fail();
        i++;
        ws();
      }
    };
    const array = () => {
      if (++depth > MAX_DEPTH) fail();
      i++;
      const out = [];
      ws();
      if (text[i] === "]") {
        i++;
        depth--;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === "]") {
          i++;
          depth--;
          return out;
        }
        if (text[i] !== ",") fail();
        i++;
        ws();
      }
    };
    ws();
    const result = value();
    ws();
    if (i !== n) fail();
    return result;
  }

  /** repr(float) in Python: the shortest round-trip digits, laid out as Python does. */
  function floatRepr(x) {
    if (Number.isNaN(x)) return "nan";
    if (x === Infinity) return "inf";
    if (x === -Infinity) return "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const text = String(Math.abs(x));
    const e = text.indexOf("e");
    const mantissa = e < 0 ? text : text.slice(0, e);
    const dot = mantissa.indexOf(".");
    let digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    let point = (dot < 0 ? mantissa.length : dot) + (e < 0 ? 0 : parseInt(text.slice(e + 1), 10));
    const lead = digits.length - digits.replace(/^0+/, "").length;
    digits = digits.slice(lead).replace(/0+$/, "");
    point -= lead;
    let body;
    if (point <= -4 || point > 16) {
      const exp = point - 1;
      body = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
    } else if (point <= 0) {
      body = "0." + "0".repeat(-point) + digits;
    } else if (point >= digits.length) {
      body = digits + "0".repeat(point - digits.length) + ".0";
    } else {
      body = digits.slice(0, point) + "." + digits.slice(point);
    }
    return (x < 0 ? "-" : "") + body;
  }
  function dumpStr(text) {
    let out = '"';
    let last = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
      out += text.slice(last, i);
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += "\\\\";
      else if (c === 8) out += "\\b";
      else if (c === 12) out += "\\f";
      else if (c === 10) out += "\\n";
      else if (c === 13) out += "\\r";
      else if (c === 9) out += "\\t";
      else out += "\\u00" + (c < 16 ? "0" : "") + c.toString(16);
      last = i + 1;
    }
    return out + text.slice(last) + '"';
  }
  /** Python's canonical_json: json.dumps(sort_keys=True, separators=(",", ":"),
      ensure_ascii=False, allow_nan=False); throws NotJsonValue on NaN and infinities. */
  function pyDumps(v) {
    if (v === null) return "null";
    if (v === true) return "true";
    if (v === false) return "false";
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new NotJsonValue("NaN or Infinity");
      return floatRepr(v);
    }
    if (typeof v === "string") return dumpStr(v);
    if (Array.isArray(v)) return "[" + v.map(pyDumps).join(",") + "]";
    return "{" + sortedStr(v.keys()).map((k) => dumpStr(k) + ":" + pyDumps(v.get(k))).join(",") + "}";
  }
  function hexCode(c, width) {
    return c.toString(16).padStart(width, "0");
  }
  function reprStr(text) {
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    let out = quote;
    for (const ch of text) {
      const c = ch.codePointAt(0);
      if (ch === quote || ch === "\\") out += "\\" + ch;
      else if (ch === "\t") out += "\\t";
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (c < 0x20 || c === 0x7f) out += "\\x" + hexCode(c, 2);
      else if (c < 0x7f || !NON_PRINTABLE.test(ch)) out += ch;
      else if (c <= 0xff) out += "\\x" + hexCode(c, 2);
      else if (c <= 0xffff) out += "\\u" + hexCode(c, 4);
      else out += "\\U" + hexCode(c, 8);
    }
    return out + quote;
  }
  /** repr() in Python. */
  function pyRepr(v) {
    if (v === null) return "None";
    if (v === true) return "True";
    if (v === false) return "False";
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number") return floatRepr(v);
    if (typeof v === "string") return reprStr(v);
    if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
    return "{" + Array.from(v, ([k, x]) => reprStr(k) + ": " + pyRepr(x)).join(", ") + "}";
  }
  /** str() in Python. */
  function pyStr(v) {
    return typeof v === "string" ? v : pyRepr(v);
  }
  /** keys._short / note._short: repr, cut to ``limit`` characters with an ellipsis. */
  function short(v, limit) {
    const max = limit === undefined ? 40 : limit;
    const text = codePoints(pyRepr(v));
    return text.length <= max ? text.join("") : text.slice(0, max - 1).join("") + "\u2026";
  }
  function names(list) {
    return list.map(pyRepr).join(", ");
  }
  /** ``text.split(": ", 1)[-1]`` */
  function afterColon(text) {
    const at = text.indexOf(": ");
    return at < 0 ? text : text.slice(at + 2);
  }
  function ndValue(ch) {
    const cp = ch.codePointAt(0);
    let n = 0;
    while (n < 60 && ND_ONE.test(String.fromCodePoint(cp - n - 1))) n++;
    return n % 10;
  }
  function ndInt(text) {
    let v = 0;
    for (const ch of text) v = v * 10 + (ch === " " ? 0 : ndValue(ch));
    return v;
  }
  /** Whether datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ") returns (rather than raises). */
  function realTime(text) {
    const m = STRPTIME_RE.exec(text);
    if (m === null || m[0].length !== text.length) return false;
    const [year, month, day, , , second] = m.slice(1).map(ndInt);
    const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    return year >= 1 && day >= 1 && day <= days[month - 1] && second <= 59;
  }

  // ------------------------------------------------------------------------------ signed notes

  function checkText(text, what) {
    if (typeof text !== "string") throw new NoteError(`${what} must be text (got ${pyType(text)})`);
    if (hasLoneSurrogate(text)) throw new NoteError(`${what} is not valid UTF-8 (it holds a lone surrogate character)`);
    const size = utf8(text).length;
    if (size > MAX_NOTE_BYTES) throw new NoteError(`${what} is ${size} bytes; vdto reads notes of at most ${MAX_NOTE_BYTES} bytes`);
    if (text.includes("\r")) throw new NoteError(`${what} has a carriage return (Windows line ends?); notes end lines with '\\n' only`);
    const bad = CONTROL_RE.exec(text);
    if (bad !== null) throw new NoteError(`${what} has the control character ${pyRepr(bad[0])}; only newlines are allowed`);
    return text;
  }
  function checkBody(body, what) {
    checkText(body, what);
    if (!body.endsWith("\n")) throw new NoteError(`${what} must end with a newline`);
    return body;
  }
  function checkName(name, what) {
    const label = what === undefined ? "key name" : what;
    if (typeof name !== "string") throw new NoteError(`${label} must be text (got ${pyType(name)})`);
    if (!name) throw new NoteError(`${label} is empty`);
    if (PY_SPACE.test(name) || name.includes("+") || CONTROL_RE.test(name)) {
      throw new NoteError(`${label} ${short(name)} has a space, a '+' or a control character; none is allowed`);
    }
    if (hasLoneSurrogate(name)) throw new NoteError(`${label} ${short(name)} is not valid UTF-8`);
    return name;
  }
  function plural(count, word) {
    return count === 1 ? `${count} ${word}` : `${count} ${word}s`;
  }
  /** Checkpoint.parse: {origin, size (bigint), root (32 bytes)}. */
  function parseCheckpoint(body) {
    checkBody(body, "checkpoint text");
    const lines = body.slice(0, -1).split("\n");
    if (lines.length < 3) {
      throw new NoteError(`checkpoint text has ${plural(lines.length, "line")}; it needs 3 (origin, tree size, root hash)`);
    }
    if (lines.length > 3) {
      throw new NoteError(`checkpoint has ${plural(lines.length - 3, "extension line")} after the root hash; vdto writes none and accepts none`);
    }
    const [origin, sizeText, rootText] = lines;
    if (!origin) throw new NoteError("checkpoint origin (line 1) is empty");
    if (!SIZE_RE.test(sizeText)) {
      throw new NoteError(`checkpoint tree size (line 2) must be a decimal number without leading zeros (got ${short(sizeText)})`);
    }
    if (sizeText.length > String(MAX_TREE_SIZE).length) {
      throw new NoteError(`checkpoint tree size (line 2) is larger than 2^64 - 1 (got ${short(sizeText)})`);
    }
    const root = b64decode(rootText);
    if (root === null) throw new NoteError(`checkpoint root hash (line 3) is not standard base64 (got ${short(rootText)})`);
    if (root.length !== 32) throw new NoteError(`checkpoint root hash (line 3) is ${root.length} bytes; a SHA-256 root is 32`);
    checkName(origin, "checkpoint origin");
    const chars = codePoints(origin).length;
    if (chars > MAX_ORIGIN_CHARS) throw new NoteError(`checkpoint origin is ${chars} characters; at most ${MAX_ORIGIN_CHARS}`);
    const size = BigInt(sizeText);
    if (size > MAX_TREE_SIZE) throw new NoteError(`checkpoint tree size ${size} is outside 0 to 2^64 - 1`);
    return { origin, size, root };
  }
  function parseSignatureLine(line, where) {
    if (!line.startsWith(SIGNATURE_PREFIX)) {
      throw new NoteError(`${where} is not a signature line: it must start with '\u2014 ' (em dash, space)`);
    }
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) throw new NoteError(`${where} has no space between the key name and the signature`);
    const name = rest.slice(0, space);
    const encoded = rest.slice(space + 1);
    checkName(name, `key name in ${where}`);
    const value = b64decode(encoded);
    if (value === null || !encoded) {
      throw new NoteError(`${where}: the signature of ${pyRepr(name)} is not standard base64 (got ${short(encoded)})`);
    }
    if (value.length <= 4) {
      throw new NoteError(`${where}: the signature of ${pyRepr(name)} is ${value.length} bytes; it needs a 4-byte key ID and more`);
    }
    return { name, keyHash: value.slice(0, 4), value: value.slice(4), line: line + "\n" };
  }
  /** note.parse_note: [body, signature lines]. */
  function parseNote(text) {
    checkText(text, "note");
    const split = text.lastIndexOf("\n\n");
    if (split < 0) throw new NoteError("note has no empty line before its signature lines");
    const body = text.slice(0, split + 1);
    const block = text.slice(split + 2);
    if (!block) throw new NoteError("note has no signature lines after its empty line");
    if (!block.endsWith("\n")) throw new NoteError("the note's last signature line does not end with a newline");
    const lines = block.slice(0, -1).split("\n");
    if (lines.length > MAX_SIGNATURES) throw new NoteError(`note has ${lines.length} signature lines; vdto reads at most ${MAX_SIGNATURES}`);
    return [body, lines.map((line, i) => parseSignatureLine(line, `signature line ${i + 1}`))];
  }
  async function keyId(name, publicKey, alg) {
    return (await sha256(concat(utf8(name), Uint8Array.of(0x0a, alg), publicKey))).slice(0, 4);
  }
  async function verifySignature(body, sig, name, publicHex) {
    const publicKey = fromHex(publicHex);
    if (sig.name !== name || !sameBytes(sig.keyHash, await keyId(name, publicKey, ALG_ED25519))) return false;
    if (sig.value.length !== 64) return false;
    return ed25519Verifies(publicKey, sig.value, utf8(body));
  }
  /** The cosignature's timestamp (bigint) when it verifies, else null. */
  async function verifyCosignature(body, sig, name, publicHex) {
    const publicKey = fromHex(publicHex);
    if (sig.name !== name || !sameBytes(sig.keyHash, await keyId(name, publicKey, ALG_COSIGNATURE_V1))) return null;
    if (sig.value.length !== 72) return null;
    let stamp = 0n;
    for (let i = 0; i < 8; i++) stamp = (stamp << 8n) | BigInt(sig.value[i]);
    if (stamp > MAX_TIMESTAMP) return null;
    const message = concat(utf8(`cosignature/v1\ntime ${stamp}\n`), utf8(body));
    return (await ed25519Verifies(publicKey, sig.value.slice(8), message)) ? stamp : null;
  }

  // ------------------------------------------------------------------------------ Merkle trees

  let emptyRoot = null;
  async function leafHash(data) {
    return sha256(concat(Uint8Array.of(0), data));
  }
  async function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
  }
  function bitLength(v) {
    return v === 0n ? 0 : v.toString(2).length;
  }
  function bitCount(v) {
    return v.toString(2).split("1").length - 1;
  }
  /** Roots of every prefix of a list of leaf hashes (RFC 9162 MTH), from the perfect subtrees. */
  class Tree {
    constructor(leaves) {
      this.levels = [leaves];
      this.built = false;
    }
    async build() {
      if (this.built) return;
      let level = this.levels[0];
      while (level.length > 1) {
        const up = [];
        for (let i = 0; i + 1 < level.length; i += 2) up.push(await nodeHash(level[i], level[i + 1]));
        this.levels.push(up);
        level = up;
      }
      this.built = true;
    }
    async root(size) {
      if (size === 0) {
        if (emptyRoot === null) emptyRoot = await sha256(new Uint8Array(0));
        return emptyRoot;
      }
      await this.build();
      const parts = [];
      let start = 0;
      for (let h = this.levels.length; h >= 0; h--) {
        if (size - start >= 2 ** h) {
          parts.push(this.levels[h][start >> h]);
          start += 2 ** h;
        }
      }
      let r = parts[parts.length - 1];
      for (let k = parts.length - 2; k >= 0; k--) r = await nodeHash(parts[k], r);
      return r;
    }
  }
  function shortHash(digest) {
    return toHex(digest.slice(0, 4)) + "\u2026";
  }
  function hashesWord(count) {
    return count === 1 ? `${count} hash` : `${count} hashes`;
  }
  /** merkle.verify_inclusion; throws NoteError (a ProofError) naming what failed. */
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index >= size) {
      throw new NoteError(`leaf index ${index} is outside a tree of size ${size} (indexes run from 0 to size - 1)`);
    }
    proof.forEach((h, i) => {
      if (h.length !== 32) throw new NoteError(`inclusion proof hash ${i} is ${h.length} bytes; a SHA-256 hash is 32`);
    });
    const inner = bitLength(index ^ (size - 1n));
    const need = inner + bitCount(index >> BigInt(inner));
    if (proof.length !== need) {
      throw new NoteError(`inclusion proof has ${hashesWord(proof.length)}; a tree of size ${size} needs ${need} for index ${index}`);
    }
    let r = leaf;
    let fn = index;
    let sn = size - 1n;
    for (const p of proof) {
      if (fn & 1n || fn === sn) {
        r = await nodeHash(p, r);
        if (!(fn & 1n)) {
          while (fn && !(fn & 1n)) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (!sameBytes(r, root)) {
      throw new NoteError(`inclusion proof leads to root ${shortHash(r)}, not the checkpoint's ${shortHash(root)}`);
    }
  }
  /** bytes.fromhex(h); throws a TypeError / Error carrying Python's message. */
  function pyFromHex(h) {
    if (typeof h !== "string") throw new TypeError(`fromhex() argument must be str, not ${pyType(h)}`);
    const bad = (at) => new Error(`non-hexadecimal number found in fromhex() arg at position ${at}`);
    for (let k = 0; k < h.length; k++) if (h.charCodeAt(k) >= 128) throw bad(codePoints(h.slice(0, k)).length);
    const out = [];
    const isHex = (c) => c !== undefined && /[0-9a-fA-F]/.test(c);
    let i = 0;
    while (i < h.length) {
      if (/[ \t\n\r\x0b\x0c]/.test(h[i])) {
        while (i < h.length && /[ \t\n\r\x0b\x0c]/.test(h[i])) i++;
        if (i >= h.length) break;
      }
      if (!isHex(h[i])) throw bad(i);
      if (!isHex(h[i + 1])) throw bad(i + 1);
      out.push(parseInt(h.substr(i, 2), 16));
      i += 2;
    }
    return Uint8Array.from(out);
  }
  /** Iterating a JSON value in Python (for h in value). */
  function pyIter(v) {
    if (Array.isArray(v)) return v;
    if (typeof v === "string") return codePoints(v);
    if (isDict(v)) return Array.from(v.keys());
    throw new TypeError(`'${pyType(v)}' object is not iterable`);
  }

  // ------------------------------------------------------------------------------ ledger lines

  function structureProblem(entry) {
    if (!isDict(entry)) return "not a JSON object";
    const keys = new Set(entry.keys());
    const allowed = new Set([...ENTRY_KEYS, "quorum"]);
    if (!ENTRY_KEYS.every((k) => keys.has(k)) || ![...keys].every((k) => allowed.has(k))) {
      const parts = [];
      const missing = sortedStr(ENTRY_KEYS.filter((k) => !keys.has(k)));
      if (missing.length) parts.push("missing " + missing.join(", "));
      const extra = sortedStr([...keys].filter((k) => !allowed.has(k)));
      if (extra.length) parts.push("unexpected " + extra.map((k) => short(k, 20)).join(", "));
      return "wrong keys (" + parts.join("; ") + ")";
    }
    const seq = entry.get("seq");
    if (typeof seq !== "bigint" || seq < 1n) return `seq must be a positive integer (got ${short(seq)})`;
    const kind = entry.get("kind");
    if (typeof kind !== "string" || !KIND_RE.test(kind)) {
      return `kind must be a short lowercase name like 'scorecard' (got ${short(kind)})`;
    }
    const time = entry.get("time");
    if (typeof time !== "string" || !TIME_RE.test(time)) {
      return `time must be UTC like 2026-11-21T23:00:00Z (got ${short(time)})`;
    }
    if (!realTime(time)) return `time is not a real date and time (got ${short(time)})`;
    for (const name of ["prev", "payload_sha256", "hash"]) {
      const v = entry.get(name);
      if (typeof v !== "string" || !HEX64_RE.test(v)) return `${name} must be 64 lowercase hex characters (got ${short(v)})`;
    }
    if (!isDict(entry.get("payload"))) return "payload must be a JSON object";
    if (entry.has("quorum")) {
      const q = entry.get("quorum");
      const ok =
        Array.isArray(q) &&
        q.length > 0 &&
        q.every((a) => typeof a === "string" && AGENCY_RE.test(a)) &&
        pyEq(q, sortedStr(new Set(q)));
      if (!ok) return "quorum must be a sorted list of agency names without repeats";
    }
    const signatures = entry.get("signatures");
    if (!Array.isArray(signatures)) return "signatures must be a list";
    for (let n = 1; n <= signatures.length; n++) {
      const sig = signatures[n - 1];
      if (!isDict(sig) || sig.size !== 3 || !SIGNATURE_KEYS.every((k) => sig.has(k))) {
        return `signature ${n} must be an object with exactly agency, key and sig`;
      }
      const agency = sig.get("agency");
      if (typeof agency !== "string" || !AGENCY_RE.test(agency)) return `signature ${n} has an invalid agency name ${short(agency)}`;
      const key = sig.get("key");
      if (typeof key !== "string" || !HEX64_RE.test(key)) return `signature ${n} key must be 64 lowercase hex characters`;
      const value = sig.get("sig");
      if (typeof value !== "string" || !HEX128_RE.test(value)) return `signature ${n} sig must be 128 lowercase hex characters`;
    }
    return null;
  }
  /** The bytes every signature of an entry is over, and its Merkle leaf. */
  function signedBytes(entry) {
    const fields = new Map();
    for (const k of SIGNED_FIELDS) if (entry.has(k)) fields.set(k, entry.get(k));
    return utf8(pyDumps(fields));
  }
  async function entryHash(entry) {
    const rest = new Map(entry);
    rest.delete("hash");
    return sha256hex(utf8(pyDumps(rest)));
  }
  async function originOfRule(rule) {
    return ORIGIN_PREFIX + (await sha256hex(signedBytes(rule))).slice(0, 16);
  }
  function declaredAgencies(payload) {
    const agencies = pget(payload, "agencies");
    if (!isDict(agencies) || agencies.size === 0) return [null, 'rule payload must declare "agencies": {name: public key hex, ...}'];
    for (const [name, key] of agencies) {
      if (!AGENCY_RE.test(name)) return [null, `rule payload declares an invalid agency name ${short(name)}`];
      if (typeof key !== "string" || !HEX64_RE.test(key)) {
        return [null, `rule payload declares a key for ${pyRepr(name)} that is not 64 lowercase hex characters`];
      }
    }
    if (new Set(agencies.values()).size !== agencies.size) return [null, "rule payload declares the same key for two agencies"];
    return [new Map(agencies), ""];
  }
  /** The agencies' keys in force: current (agency -> key), declared, retired (key -> [agency, seq, how]). */
  class Keyring {
    constructor(current, declared, retired) {
      this.current = current;
      this.declared = declared;
      this.retired = retired || new Map();
    }
    static fromRule(agencies) {
      return new Keyring(new Map(agencies), new Set(agencies.keys()));
    }
    changed(agency, key, seq) {
      const current = new Map(this.current);
      const retired = new Map(this.retired);
      const old = current.get(agency);
      current.delete(agency);
      retired.set(old, [agency, seq, key ? "replaced" : "revoked"]);
      if (key) current.set(agency, key);
      return new Keyring(current, this.declared, retired);
    }
    used() {
      return new Set([...this.current.values(), ...this.retired.keys()]);
    }
  }
  function quorum(entry) {
    const payload = pget(entry, "payload") || new Map();
    if (!isDict(payload)) return [];
    const kind = pget(entry, "kind");
    if (kind === "announcement" && isDict(pget(payload, "scorecards"))) return sortedStr(payload.get("scorecards").keys());
    if (kind === "round-close" && Array.isArray(pget(payload, "agencies"))) return sortedStr(payload.get("agencies").map(pyStr));
    return [];
  }
  function requiredSigners(entry, ring) {
    const kind = pget(entry, "kind");
    const payload = pget(entry, "payload") || new Map();
    if (kind === "rule" && ring === null) {
      const [declared] = declaredAgencies(payload);
      return sortedStr(declared ? declared.keys() : []);
    }
    if (kind === KEY_CHANGE && ring !== null && isDict(payload)) {
      const agency = pget(payload, "agency");
      const others = sortedStr([...ring.current.keys()].filter((a) => !pyEq(a, agency)));
      return others.length ? others : typeof agency === "string" && ring.current.has(agency) ? [agency] : [];
    }
    return quorum(entry);
  }
  function keyChangeProblem(payload, ring) {
    const keys = [...payload.keys()];
    if (keys.some((k) => !["agency", "key", "reason"].includes(k)) || !payload.has("agency") || !payload.has("key")) {
      return 'key-change payload must be {"agency", "key", "reason"}';
    }
    const agency = payload.get("agency");
    const key = payload.get("key");
    // Not exact: Python raises (TypeError) on a list or object as agency; here it is not declared.
    if (typeof agency !== "string" || !ring.declared.has(agency)) return `key-change names ${short(agency)}, which is not a declared agency`;
    if (!ring.current.has(agency)) return `key-change names ${pyRepr(agency)}, whose key was revoked already`;
    if (key !== null && (typeof key !== "string" || !HEX64_RE.test(key))) return "key-change key must be 64 lowercase hex characters, or null to revoke";
    if (key !== null && ring.used().has(key)) return `key-change gives ${pyRepr(agency)} a key used before (${key.slice(0, 8)}\u2026); a new key is needed`;
    if (key === null && ring.current.size === 1) return "key-change would revoke the last agency's key (nobody could sign again)";
    if (typeof pget(payload, "reason", "") !== "string") return "key-change reason must be text";
    return null;
  }
  function signerProblem(agency, key, ring) {
    if (!ring.declared.has(agency)) {
      return `signature by ${pyRepr(agency)}, which is not a declared agency (declared: ${sortedStr(ring.declared).join(", ")})`;
    }
    if (ring.retired.has(key) && ring.retired.get(key)[0] === agency) {
      const [, seq, how] = ring.retired.get(key);
      return `signature by ${pyRepr(agency)} is made with key ${key.slice(0, 8)}\u2026, which was ${how} at entry ${seq}`;
    }
    if (!ring.current.has(agency)) return `signature by ${pyRepr(agency)}, whose key was revoked`;
    if (key !== ring.current.get(agency)) {
      return `signature by ${pyRepr(agency)} is made with key ${key.slice(0, 8)}\u2026, not the key declared for ${pyRepr(agency)} (${ring.current.get(agency).slice(0, 8)}\u2026)`;
    }
    return null;
  }
  /** ledger._entry_problem: [problem, keyring after the entry]. The page pins no keys (trusted=None). */
  async function entryProblem(entry, ring) {
    const payload = entry.get("payload");
    if ((await sha256hex(utf8(pyDumps(payload)))) !== entry.get("payload_sha256")) return ["payload_sha256 does not match the payload", ring];
    if ((await entryHash(entry)) !== entry.get("hash")) return ["hash does not match the entry", ring];
    const signatures = entry.get("signatures");
    if (!signatures.length) return ["no signatures", ring];
    const kind = entry.get("kind");
    const newKey = kind === KEY_CHANGE ? pget(payload, "key") : null;
    const changing = kind === KEY_CHANGE ? pget(payload, "agency") : null;
    const seen = new Set();
    const proofs = new Set();
    const message = signedBytes(entry);
    for (const sig of signatures) {
      const agency = sig.get("agency");
      const isProof = pyEq(agency, changing) && newKey !== null && pyEq(sig.get("key"), newKey) && !proofs.has(agency);
      if (isProof) proofs.add(agency);
      else if (seen.has(agency)) return [`signed twice by ${pyRepr(agency)}`, ring];
      else seen.add(agency);
      if (!(await ed25519Verifies(fromHex(sig.get("key")), fromHex(sig.get("sig")), message))) {
        return [`signature by ${pyRepr(agency)} does not verify`, ring];
      }
    }
    if (ring === null) {
      if (kind !== "rule") return [`the first entry must be a 'rule' entry (got ${pyRepr(kind)})`, ring];
      const [declared, why] = declaredAgencies(payload);
      if (declared === null) return [why, ring];
      const unsigned = sortedStr([...declared.keys()].filter((a) => !seen.has(a)));
      if (unsigned.length) return [`rule entry is not signed by ${names(unsigned)} (every declared agency must sign it)`, ring];
      ring = Keyring.fromRule(declared);
    } else if (kind === KEY_CHANGE) {
      const problem = keyChangeProblem(payload, ring);
      if (problem) return [problem, ring];
    }
    for (const sig of signatures) {
      if (proofs.has(sig.get("agency")) && pyEq(sig.get("key"), newKey)) continue;
      const problem = signerProblem(sig.get("agency"), sig.get("key"), ring);
      if (problem) return [problem, ring];
    }
    const required = requiredSigners(entry, kind !== "rule" || entry.get("seq") !== 1n ? ring : null);
    if (entry.has("quorum")) {
      const q = entry.get("quorum");
      const left = sortedStr(new Set(required.filter((a) => !q.includes(a))));
      if (left.length) return [`${kind} entry's quorum (${q.join(", ")}) leaves out ${names(left)}`, ring];
      const unsigned = sortedStr(new Set(q.filter((a) => !seen.has(a))));
      if (unsigned.length) return [`${kind} entry is not signed by ${names(unsigned)} (its quorum is ${q.join(", ")})`, ring];
    } else {
      const unsigned = sortedStr(new Set(required.filter((a) => !seen.has(a))));
      if (unsigned.length) return [`${kind} entry is not signed by ${names(unsigned)} (every agency of the round must sign it)`, ring];
    }
    if (kind === KEY_CHANGE) {
      if (newKey !== null && !proofs.has(changing)) {
        return [`key-change entry is not signed by the new key of ${pyRepr(changing)} (it must show it holds the key)`, ring];
      }
      ring = ring.changed(pyStr(changing), newKey, entry.get("seq"));
    }
    return [null, ring];
  }
  /** ledger._parse_line (bytes without the newline): [problem, entry]. */
  function parseLine(raw) {
    if (!raw.length) return ["empty line", null];
    const text = decodeUtf8(raw);
    if (text === null) return ["not valid UTF-8", null];
    let entry;
    try {
      entry = pyLoads(text);
    } catch (error) {
      if (error instanceof JsonError) return ["not valid JSON", null];
      throw error;
    }
    const problem = structureProblem(entry);
    if (problem) return [problem, null];
    let canonical;
    try {
      canonical = pyDumps(entry);
    } catch (error) {
      if (error instanceof NotJsonValue) return ["not valid JSON (NaN or Infinity)", null];
      throw error;
    }
    if (canonical !== text) return ["line is not canonical JSON (sorted keys, no spaces)", null];
    return [null, entry];
  }
  async function lineProblem(raw, position, prevHash, ring) {
    const [problem, entry] = parseLine(raw);
    if (problem || entry === null) return [problem, null, ring];
    if (entry.get("seq") !== BigInt(position)) {
      return [`seq is ${entry.get("seq")}, expected ${position} (entries removed or reordered?)`, entry, ring];
    }
    if (entry.get("prev") !== prevHash) {
      const where = position > 1 ? `entry ${position - 1}'s hash` : "64 zeros (first entry)";
      return [`prev does not match ${where} (entries removed or reordered?)`, entry, ring];
    }
    const [bad, after] = await entryProblem(entry, position > 1 ? ring : null);
    return [bad, entry, after];
  }
  /** ledger._scan: every line in order; {entries, leaves, rings, tree, origin, report}. */
  async function scanLedger(data) {
    const scan = { entries: [], leaves: [], rings: [], tree: null, origin: null, report: null };
    if (!data.length) {
      scan.report = { ok: false, entries: 0, where: "entry 1", problem: "no entries (the file is empty)" };
      return scan;
    }
    const lines = splitBytes(data, 0x0a);
    const complete = lines[lines.length - 1].length === 0;
    if (complete) lines.pop();
    const count = lines.length;
    let prevHash = ZERO_HASH;
    let ring = null;
    for (let position = 1; position <= count; position++) {
      let problem;
      let entry = null;
      if (position === count && !complete) {
        problem = "the last line does not end with a newline (file cut off?)";
      } else {
        [problem, entry, ring] = await lineProblem(lines[position - 1], position, prevHash, ring);
      }
      if (problem) {
        scan.report = { ok: false, entries: count, where: `entry ${position}`, problem: `entry ${position}: ${problem}` };
        return scan;
      }
      scan.entries.push(entry);
      scan.leaves.push(await leafHash(signedBytes(entry)));
      scan.rings.push(ring);
      prevHash = entry.get("hash");
    }
    scan.origin = await originOfRule(scan.entries[0]);
    scan.tree = new Tree(scan.leaves);
    scan.report = { ok: true, entries: count, where: "", problem: "" };
    return scan;
  }

  // ------------------------------------------------------------------------------- checkpoints

  /** ledger.check_note: {checkpoint, signedBy, witnessed (name -> timestamp)}; throws NoteError. */
  async function checkNote(text, ring, witnesses, origin) {
    const [body, lines] = parseNote(text);
    const cp = parseCheckpoint(body);
    if (origin !== null && cp.origin !== origin) throw new NoteError(`checkpoint is for log ${pyRepr(cp.origin)}, not ${pyRepr(origin)}`);
    const signed = [];
    const witnessed = new Map();
    for (const line of lines) {
      if (ring.declared.has(line.name)) {
        const key = ring.current.has(line.name) ? ring.current.get(line.name) : null;
        const retired = [...ring.retired].filter(([, [a]]) => a === line.name).map(([k]) => k);
        if (key !== null && sameBytes(line.keyHash, await keyId(line.name, fromHex(key), ALG_ED25519))) {
          if (!(await verifySignature(body, line, line.name, key))) throw new NoteError(`signature by ${pyRepr(line.name)} does not verify`);
          signed.push(line.name);
          continue;
        }
        for (const old of retired) {
          if (sameBytes(line.keyHash, await keyId(line.name, fromHex(old), ALG_ED25519))) {
            const [, seq, how] = ring.retired.get(old);
            throw new NoteError(`signature by ${pyRepr(line.name)} is made with key ${old.slice(0, 8)}\u2026, which was ${how} at entry ${seq}`);
          }
        }
        throw new NoteError(`signature by ${pyRepr(line.name)} is made with a key that is not its key in force`);
      }
      if (witnesses && witnesses.size && witnesses.has(line.name)) {
        const when = await verifyCosignature(body, line, line.name, witnesses.get(line.name));
        if (when === null) throw new NoteError(`cosignature by witness ${pyRepr(line.name)} does not verify`);
        witnessed.set(line.name, when);
      }
    }
    if (!signed.length) throw new NoteError("checkpoint is not signed by any agency in force");
    return { checkpoint: cp, signedBy: sortedStr(new Set(signed)), witnessed };
  }
  /** ledger._read_checkpoints on the sidecar's bytes (null: no such file): [records, problem]. */
  function readCheckpoints(data) {
    const records = [];
    if (data === null || !data.length) return [records, null];
    if (data[data.length - 1] !== 0x0a) return [records, "the checkpoints file does not end with a newline (cut off?)"];
    const lines = splitBytes(data, 0x0a).slice(0, -1);
    for (let n = 1; n <= lines.length; n++) {
      const text = decodeUtf8(lines[n - 1]);
      let record;
      try {
        if (text === null) throw new JsonError("not UTF-8");
        record = pyLoads(text);
      } catch (error) {
        if (error instanceof JsonError) return [records, `checkpoints line ${n} is not JSON`];
        throw error;
      }
      if (
        !isDict(record) ||
        record.size !== 2 ||
        !record.has("size") ||
        !record.has("note") ||
        typeof record.get("note") !== "string" ||
        typeof record.get("size") !== "bigint" ||
        record.get("size") < 1n
      ) {
        return [records, `checkpoints line ${n} must be {"note": text, "size": positive integer}`];
      }
      if (pyDumps(record) !== text) return [records, `checkpoints line ${n} is not canonical JSON`];
      const size = record.get("size");
      if (records.length && size <= records[records.length - 1].size) {
        return [records, `checkpoints line ${n}: sizes must increase (${size} after ${records[records.length - 1].size})`];
      }
      records.push({ size, note: record.get("note") });
    }
    return [records, null];
  }
  /** ledger._check_checkpoint: [problem, check]. */
  async function checkCheckpoint(text, sizeClaimed, scan, witnesses) {
    let cp;
    try {
      cp = parseCheckpoint(parseNote(text)[0]);
    } catch (error) {
      if (error instanceof NoteError) return [`not a valid signed checkpoint (${error.what})`, null];
      throw error;
    }
    if (sizeClaimed !== null && cp.size !== sizeClaimed) return [`the note says tree size ${cp.size}, the record ${sizeClaimed}`, null];
    if (cp.origin !== scan.origin) return [`checkpoint is for log ${pyRepr(cp.origin)}, not this ledger (${scan.origin})`, null];
    const count = scan.entries.length;
    if (cp.size > BigInt(count)) {
      return [`checkpoint covers ${cp.size} entries but the ledger has ${count} (entries dropped from the end?)`, null];
    }
    const size = Number(cp.size);
    let check;
    try {
      // scan.ring_at(size) is rings[size - 1]: for size 0 Python's index -1 is the last ring
      check = await checkNote(text, scan.rings[size === 0 ? count - 1 : size - 1], witnesses, scan.origin);
    } catch (error) {
      if (error instanceof NoteError) return [error.what, null];
      throw error;
    }
    const root = await scan.tree.root(size);
    if (!sameBytes(root, cp.root)) {
      return [
        `the ledger's first ${cp.size} entries hash to root ${toHex(root).slice(0, 16)}\u2026, not the checkpoint's ` +
          `${toHex(cp.root).slice(0, 16)}\u2026 (a different history)`,
        null,
      ];
    }
    return [null, check];
  }

  // ------------------------------------------------------------------------------------ proofs

  function proofFail(where, problem, size) {
    return { ok: false, where, problem: `${where}: ${problem}`, size: size === undefined ? null : size };
  }
  /** ledger._proved_entry: [problem, entry]. */
  async function provedEntry(item, size, root) {
    if (!isDict(item) || item.size !== 3 || !["seq", "line", "inclusion"].every((k) => item.has(k)) || typeof item.get("line") !== "string") {
      return ["malformed (needs seq, line and inclusion)", null];
    }
    const line = item.get("line");
    // Not exact: Python raises (UnicodeEncodeError) on a line holding a lone surrogate.
    if (hasLoneSurrogate(line)) return ["not valid UTF-8", null];
    const [problem, entry] = parseLine(utf8(line));
    if (problem || entry === null) return [problem, null];
    if (!pyEq(entry.get("seq"), item.get("seq"))) return [`the line is entry ${entry.get("seq")}, not ${pyStr(item.get("seq"))}`, null];
    let path;
    try {
      path = pyIter(item.get("inclusion")).map(pyFromHex);
    } catch (error) {
      return [`inclusion proof is malformed (${error.message})`, null];
    }
    try {
      await verifyInclusion(entry.get("seq") - 1n, size, await leafHash(signedBytes(entry)), path, root);
    } catch (error) {
      if (error instanceof NoteError) return [error.what, null];
      throw error;
    }
    return [null, entry];
  }
  function itemWhere(item) {
    return `entry ${isDict(item) ? pyStr(pget(item, "seq")) : "?"}`;
  }
  /** ledger.verify_proof (trusted=None). */
  async function verifyProof(bundle, witnesses, checkpoint) {
    if (!isDict(bundle) || !pyEq(pget(bundle, "vdto_proof"), 1n) || !["checkpoint", "entries", "keys"].every((k) => bundle.has(k))) {
      return proofFail("proof", "not a vdto proof bundle (version 1)");
    }
    let cp;
    try {
      cp = parseCheckpoint(parseNote(bundle.get("checkpoint"))[0]);
    } catch (error) {
      if (error instanceof NoteError) return proofFail("checkpoint", `not a valid signed checkpoint (${error.what})`);
      throw error;
    }
    if (!pyEq(pget(bundle, "size"), cp.size) || !pyEq(pget(bundle, "origin"), cp.origin)) {
      return proofFail(
        "proof",
        `the bundle says size ${short(pget(bundle, "size"))} of ${short(pget(bundle, "origin"))}, its checkpoint ${cp.size} of ${pyRepr(cp.origin)}`,
        cp.size
      );
    }
    if (!Array.isArray(bundle.get("entries")) || !bundle.get("entries").length) return proofFail("proof", "the bundle proves no entry", cp.size);
    let ring = null;
    const keys = Array.isArray(bundle.get("keys")) ? bundle.get("keys") : [];
    if (!keys.length) return proofFail("proof", "the bundle holds no rule entry", cp.size);
    for (const item of keys) {
      const where = itemWhere(item);
      const [problem, entry] = await provedEntry(item, cp.size, cp.root);
      if (problem || entry === null) return proofFail(where, pyStr(problem), cp.size);
      if (ring === null && entry.get("seq") !== 1n) return proofFail(where, "the bundle's first key entry is not the rule entry", cp.size);
      if (ring !== null && entry.get("kind") !== KEY_CHANGE) {
        return proofFail(where, "only the rule entry and key changes belong in the bundle's keys", cp.size);
      }
      const [bad, after] = await entryProblem(entry, ring);
      ring = after;
      if (bad) return proofFail(where, bad, cp.size);
    }
    const origin = await originOfRule(pyLoads(keys[0].get("line")));
    let check;
    try {
      check = await checkNote(bundle.get("checkpoint"), ring, witnesses, origin);
    } catch (error) {
      if (error instanceof NoteError) return proofFail("checkpoint", error.what, cp.size);
      throw error;
    }
    if (checkpoint !== null) {
      let other;
      try {
        other = parseCheckpoint(parseNote(checkpoint)[0]);
      } catch (error) {
        if (error instanceof NoteError) return proofFail("kept checkpoint", error.what, cp.size);
        throw error;
      }
      if (other.size === cp.size && !sameBytes(other.root, cp.root)) {
        return proofFail("checkpoint", `two checkpoints of size ${cp.size} with different roots (a split view)`, cp.size);
      }
    }
    const proved = new Map();
    for (const item of bundle.get("entries")) {
      const where = itemWhere(item);
      const [problem, entry] = await provedEntry(item, cp.size, cp.root);
      if (problem || entry === null) return proofFail(where, pyStr(problem), cp.size);
      const before = (await ringBefore(keys, entry.get("seq"))) || ring;
      const [bad] = await entryProblem(entry, before);
      if (bad) return proofFail(where, bad, cp.size);
      proved.set(entry.get("seq"), entry);
    }
    return { ok: true, where: "", problem: "", size: cp.size, entries: proved, signedBy: check.signedBy, witnessed: sortedStr(check.witnessed.keys()) };
  }
  async function ringBefore(keys, seq) {
    let ring = null;
    for (const item of keys) {
      const entry = pyLoads(item.get("line"));
      if (entry.get("seq") >= seq && ring !== null) break;
      ring = (await entryProblem(entry, ring))[1];
    }
    return ring;
  }

  // -------------------------------------------------------------------------------- witnesses

  /** witness.parse_vkey on one line: [name, public hex]; throws NoteError. */
  async function parseVkey(text) {
    const stripped = text.replace(PY_STRIP, "");
    const first = stripped.indexOf("+");
    const second = first < 0 ? -1 : stripped.indexOf("+", first + 1);
    const parts = first < 0 ? [stripped] : second < 0 ? [stripped.slice(0, first), stripped.slice(first + 1)] : [stripped.slice(0, first), stripped.slice(first + 1, second), stripped.slice(second + 1)];
    const bad = "not a witness verifier key (name+keyid+base64 key)";
    if (parts.length !== 3 || !WITNESS_NAME_RE.test(parts[0])) throw new NoteError(bad);
    const raw = b64decodeLenient(parts[2]);
    if (raw === null || raw.length !== 33 || raw[0] !== ALG_COSIGNATURE_V1) throw new NoteError(bad);
    if (toHex(await keyId(parts[0], raw.slice(1), ALG_COSIGNATURE_V1)) !== parts[1].toLowerCase()) {
      throw new NoteError("the verifier key's id does not match its name and key");
    }
    return [parts[0], toHex(raw.slice(1))];
  }
  /** witnesses.txt (one verifier key a line) -> [Map name -> public hex, problem]. */
  async function parseWitnesses(bytes) {
    const text = readText(bytes);
    if (text === null) return [null, "not text (UTF-8)"];
    const keys = new Map();
    const lines = text.split("\n");
    for (let n = 1; n <= lines.length; n++) {
      if (!lines[n - 1].replace(PY_STRIP, "")) continue;
      try {
        const [name, key] = await parseVkey(lines[n - 1]);
        keys.set(name, key);
      } catch (error) {
        if (error instanceof NoteError) return [null, `line ${n}: ${error.what}`];
        throw error;
      }
    }
    return [keys, null];
  }

  // -------------------------------------------------------------------------------- the site

  /** A site file name that is a plain relative path inside the folder (else it cannot be there). */
  function safeName(name) {
    if (typeof name !== "string" || !name || name.includes("\\") || hasLoneSurrogate(name)) return false;
    return name.split("/").every((part) => part && part !== "." && part !== "..");
  }
  function siteFail(where, what, known) {
    return Object.assign({ ok: false, where, problem: `${where}: ${what}` }, known || {});
  }

  /** sitecheck.verify_site(folder, None, witnesses=..., checkpoint=...) on a source of files.

      ``source.read(name)`` gives a file's bytes, or null when it is not there (it throws
      Unavailable when the folder cannot be read at all); ``source.list()`` gives every file's
      name, or null when the folder cannot be listed (a web server). ``options.witnesses``: a Map
      name -> public hex (default: read witnesses.txt); ``options.keptFor(origin)``: the
      checkpoint kept for that log (a signed note) or null. */
  async function verifySite(source, options) {
    const opts = options || {};
    let witnesses = opts.witnesses === undefined ? null : opts.witnesses;
    if (opts.witnesses === undefined) {
      const bytes = await source.read("witnesses.txt");
      if (bytes !== null) {
        const [keys, problem] = await parseWitnesses(bytes);
        if (problem) return siteFail("witnesses.txt", problem);
        witnesses = keys;
      }
    }
    const [ledgerBytes, cpBytes, sidecar, proofBytes] = await Promise.all(
      ["ledger.jsonl", "checkpoint.txt", "ledger.jsonl.checkpoints", "proof.json"].map((n) => source.read(n))
    );
    if (ledgerBytes === null) return siteFail("ledger.jsonl", "missing (the site carries no signed record)");
    const cpText = cpBytes === null ? null : readText(cpBytes);
    if (cpText === null) return siteFail("checkpoint.txt", "missing or not text");
    const scan = await scanLedger(ledgerBytes);
    const known = { entries: scan.report.entries };
    if (!scan.report.ok) return siteFail(`ledger.jsonl ${scan.report.where}`, afterColon(scan.report.problem), known);
    const [records, problem] = readCheckpoints(sidecar);
    if (problem) return siteFail("ledger.jsonl checkpoints", problem, known);
    for (const record of records) {
      const [bad] = await checkCheckpoint(record.note, record.size, scan, witnesses);
      if (bad) return siteFail(`ledger.jsonl checkpoint ${record.size}`, bad, known);
    }
    const kept = opts.keptFor ? opts.keptFor(scan.origin) : null;
    if (kept !== null && kept !== undefined) {
      const [bad] = await checkCheckpoint(kept, null, scan, witnesses);
      if (bad) return siteFail("ledger.jsonl kept checkpoint", bad, known);
    }
    const [badText] = await checkCheckpoint(cpText, null, scan, witnesses);
    if (badText) return siteFail("checkpoint.txt", badText, known);

    const lines = splitBytes(ledgerBytes, 0x0a);
    let bundle;
    try {
      const text = proofBytes === null ? null : readText(proofBytes);
      if (text === null) throw new JsonError("missing");
      bundle = pyLoads(text);
    } catch (error) {
      if (error instanceof JsonError) return siteFail("proof.json", "missing or not JSON", known);
      throw error;
    }
    const proof = await verifyProof(bundle, witnesses, cpText);
    if (!proof.ok) return siteFail(`proof.json ${proof.where}`, afterColon(proof.problem), known);
    if (!pyEq(pget(bundle, "checkpoint"), cpText)) return siteFail("proof.json", "its checkpoint is not checkpoint.txt", known);
    for (const seq of proof.entries.keys()) {
      const item = bundle.get("entries").find((e) => pyEq(e.get("seq"), seq));
      if (seq > BigInt(lines.length - 1) || decodeUtf8(lines[Number(seq) - 1]) !== item.get("line")) {
        return siteFail("proof.json", `entry ${seq} differs from ledger.jsonl`, known);
      }
    }
    Object.assign(known, { checkpointSize: proof.size, signedBy: proof.signedBy, witnessed: proof.witnessed, origin: scan.origin, checkpoint: cpText });
    const sites = [...proof.entries].filter(([, e]) => e.get("kind") === SITE_KIND).map(([s]) => s);
    if (!sites.length) return siteFail("proof.json", "proves no site entry (nothing signs the site's files)", known);
    const seq = sites.reduce((a, b) => (b > a ? b : a));
    const signed = pget(proof.entries.get(seq).get("payload"), "files");
    if (!isDict(signed)) return siteFail(`ledger.jsonl entry ${seq}`, "the site entry lists no files", known);
    known.siteEntry = seq;
    const listed = source.list();
    const present = new Map();
    let wanted;
    if (listed !== null) {
      wanted = listed.filter((n) => !PROOF_FILES.includes(n));
    } else {
      wanted = [...signed.keys()].filter((n) => safeName(n) && !PROOF_FILES.includes(n));
    }
    const contents = await Promise.all(wanted.map((n) => source.read(n)));
    for (let i = 0; i < wanted.length; i++) {
      if (contents[i] !== null) present.set(wanted[i], await sha256hex(contents[i]));
    }
    for (const name of sortedStr(new Set([...signed.keys(), ...present.keys()]))) {
      if (!present.has(name)) return siteFail(name, "missing (the site entry signed it)", known);
      if (!signed.has(name)) return siteFail(name, `not signed (entry ${seq} does not list it)`, known);
      if (!pyEq(present.get(name), signed.get(name))) {
        return siteFail(
          name,
          `differs from the signed copy (SHA-256 ${present.get(name).slice(0, 12)}\u2026, entry ${seq} signed ${cpSlice(pyStr(signed.get(name)), 12)}\u2026)`,
          known
        );
      }
    }
    const announced = [...proof.entries].filter(([, e]) => e.get("kind") === "announcement").map(([s]) => s);
    const announcement = announced.length ? announced.reduce((a, b) => (b > a ? b : a)) : null;
    const round = announcement === null ? null : pget(proof.entries.get(announcement).get("payload"), "round");
    return Object.assign({ ok: true, where: "", problem: "" }, known, { announcement, round, files: signed.size });
  }

  // ------------------------------------------------------------------------- sources of files

  function httpSource(base) {
    return {
      list: () => null,
      read: async (name) => {
        let response;
        try {
          const url = new URL(name.split("/").map(encodeURIComponent).join("/"), base);
          response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        } catch (error) {
          throw new Unavailable("fetch");
        }
        if (response.status === 404 || response.status === 410) return null;
        if (!response.ok) throw new Unavailable("http " + response.status);
        return new Uint8Array(await response.arrayBuffer());
      },
    };
  }
  /** Files chosen with the folder picker (or given as {path: Uint8Array | Blob}): the paths are
      relative to the chosen folder. */
  function filesSource(files) {
    const byName = new Map();
    // a FileList or an array of File (duck-typed: they may come from another window)
    if (Array.isArray(files) || (typeof files.length === "number" && typeof files.item === "function")) {
      for (const file of Array.from(files)) {
        const path = (file.webkitRelativePath || file.name).split("/");
        byName.set(path.length > 1 ? path.slice(1).join("/") : path[0], file);
      }
    } else {
      for (const name of Object.keys(files)) byName.set(name, files[name]);
    }
    return {
      list: () => [...byName.keys()],
      read: async (name) => {
        const file = byName.get(name);
        if (file === undefined) return null;
        return ArrayBuffer.isView(file) ? new Uint8Array(file) : new Uint8Array(await file.arrayBuffer());
      },
    };
  }

  // ----------------------------------------------------------------------- the reader's memory

  function storage() {
    try {
      return global.localStorage || null;
    } catch (error) {
      return null;
    }
  }
  function keptRecord(origin) {
    const store = storage();
    if (!store || !origin) return null;
    try {
      const record = JSON.parse(store.getItem(STORE_PREFIX + origin) || "null");
      return record && typeof record.note === "string" && /^[0-9]+$/.test(String(record.size)) ? record : null;
    } catch (error) {
      return null;
    }
  }
  /** Keep the largest checkpoint verified for a log; returns what was kept before. */
  function keepCheckpoint(report) {
    const store = storage();
    const before = keptRecord(report.origin);
    if (!store || !report.ok || report.checkpointSize === null || report.checkpointSize === undefined) return before;
    if (before === null || BigInt(before.size) < report.checkpointSize) {
      try {
        const seen = new Date().toISOString().slice(0, 10);
        store.setItem(STORE_PREFIX + report.origin, JSON.stringify({ size: String(report.checkpointSize), note: report.checkpoint, seen }));
      } catch (error) {
        // a browser that keeps nothing (private mode, full storage) checks without memory
      }
    }
    return before;
  }

  // ------------------------------------------------------------------------------------ page

  function currentLang() {
    const lang = (global.document && document.documentElement.getAttribute("lang")) || "es";
    return lang === "en" ? "en" : "es";
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    for (const child of children || []) node.append(child);
    return node;
  }
  /** The same piece in Spanish and English: two elements with data-lang, one hidden. */
  function both(tag, es, en, attrs) {
    const lang = currentLang();
    return [es, en].map((parts, i) => {
      const code = i === 0 ? "es" : "en";
      return el(tag, Object.assign({ "data-lang": code, hidden: code === lang ? null : "" }, attrs || {}), parts);
    });
  }
  function code(text) {
    return el("code", {}, [text]);
  }
  function list(items, sep, last) {
    if (items.length <= 1) return items.join("");
    return items.slice(0, -1).join(sep) + last + items[items.length - 1];
  }
  function show(box, state, report, nodes) {
    box.replaceChildren(...nodes);
    if (report && state !== "unavailable") {
      box.setAttribute("data-verdict", JSON.stringify({ ok: report.ok, where: report.where, problem: report.problem }));
    } else {
      box.removeAttribute("data-verdict");
    }
    box.setAttribute("data-state", state);
  }
  function okNodes(report, before) {
    const w = report.witnessed || [];
    const signers = report.signedBy || [];
    const items = [
      both(
        "li",
        [`El registro firmado (ledger.jsonl) tiene ${report.entries} entradas: cada una es JSON canónico, lleva el hash de la anterior y está firmada (Ed25519) por las agencias con sus claves vigentes.`],
        [`The signed ledger (ledger.jsonl) has ${report.entries} entries: each one is canonical JSON, carries the previous one's hash and is signed (Ed25519) by the agencies with their keys in force.`]
      ),
      both(
        "li",
        [
          `El punto de control de su árbol de Merkle, de ${report.checkpointSize} entradas, está firmado por ${list(signers, ", ", " y ")}` +
            (w.length ? ` y refrendado por ${w.length > 1 ? "los testigos" : "el testigo"} ${list(w, ", ", " y ")}.` : "; ningún testigo conocido lo ha refrendado."),
        ],
        [
          `The checkpoint of its Merkle tree, of ${report.checkpointSize} entries, is signed by ${list(signers, ", ", " and ")}` +
            (w.length ? ` and cosigned by ${w.length > 1 ? "the witnesses" : "the witness"} ${list(w, ", ", " and ")}.` : "; no known witness has cosigned it."),
        ]
      ),
    ];
    if (report.announcement !== null) {
      items.push(
        both(
          "li",
          [`El anuncio de la ronda ${pyStr(report.round)} (entrada ${report.announcement}) está incluido en ese árbol.`],
          [`The announcement of round ${pyStr(report.round)} (entry ${report.announcement}) is included in that tree.`]
        )
      );
    }
    items.push(
      both(
        "li",
        [`Los ${report.files} archivos del sitio son exactamente los que firmó la entrada ${report.siteEntry}: lo que se ve aquí es lo que firmaron.`],
        [`The site's ${report.files} files are exactly the ones entry ${report.siteEntry} signed: what you see here is what they signed.`]
      )
    );
    if (before) {
      items.push(
        both(
          "li",
          [`Este navegador vio el punto de control de ${before.size} entradas el ${before.seen}, y el registro lo contiene: no se ha reescrito desde entonces.`],
          [`This browser saw the checkpoint of ${before.size} entries on ${before.seen}, and the ledger contains it: it has not been rewritten since.`]
        )
      );
    } else if (storage()) {
      items.push(
        both(
          "li",
          [`Este navegador guarda este punto de control (${report.checkpointSize} entradas): en una próxima visita comprobará que el registro lo sigue conteniendo.`],
          [`This browser keeps this checkpoint (${report.checkpointSize} entries): on a later visit it will check that the ledger still contains it.`]
        )
      );
    }
    items.push(
      both(
        "li",
        ["Las claves son las que declara el propio registro (copiadas en keys/): compárelas con las que cada agencia publica por su cuenta."],
        ["The keys are those the ledger itself declares (copied in keys/): compare them with those each agency publishes on its own."]
      )
    );
    return [
      ...both("p", [el("strong", {}, ["✓ Verificado en este navegador, sin instalar nada."])], [el("strong", {}, ["✓ Verified in this browser, with nothing installed."])], { class: "vdto-verify-head" }),
      el("ul", {}, items.flat()),
    ];
  }
  function failedNodes(report) {
    return [
      ...both(
        "p",
        [el("strong", {}, ["✗ La verificación falló en ", code(report.where), "."]), " Lo que muestra esta página puede no ser lo que firmaron las agencias. El problema:"],
        [el("strong", {}, ["✗ Verification failed at ", code(report.where), "."]), " What this page shows may not be what the agencies signed. The problem:"],
        { class: "vdto-verify-head" }
      ),
      el("pre", { class: "vdto-problem" }, [report.problem]),
    ];
  }
  const REASONS = {
    disk: [
      "Abierta desde el disco, la página no puede leer los archivos de su propia carpeta, así que aún no se ha verificado. Elija la carpeta del sitio descargado: la verificación se hace aquí mismo, sin enviar nada.",
      "Opened from disk, the page cannot read the files of its own folder, so it has not been checked yet. Choose the downloaded site's folder: the check runs right here, sending nothing anywhere.",
    ],
    fetch: [
      "La página no pudo leer los archivos de su sitio, así que no se ha verificado. Descargue el sitio y elija aquí su carpeta, o verifique con la línea de comandos, como se explica abajo.",
      "The page could not read its site's files, so it has not been checked. Download the site and choose its folder here, or check with the command line as explained below.",
    ],
    crypto: [
      "Este navegador no puede comprobar aquí las firmas (Ed25519 con WebCrypto: hace falta un navegador reciente y una página servida por https o abierta desde el disco). Verifique con la línea de comandos, como se explica abajo.",
      "This browser cannot check the signatures here (Ed25519 with WebCrypto: it needs a recent browser and a page served over https or opened from disk). Check with the command line as explained below.",
    ],
    error: [
      "La verificación no pudo terminar en este navegador. Verifique con la línea de comandos, como se explica abajo.",
      "The check could not finish in this browser. Check with the command line as explained below.",
    ],
  };
  function unavailableNodes(box, why) {
    const nodes = both("p", [REASONS[why][0]], [REASONS[why][1]]);
    if (why === "disk" || why === "fetch") {
      const input = el("input", { type: "file", webkitdirectory: "", multiple: "", "aria-label": "Carpeta del sitio / Site folder" });
      input.addEventListener("change", () => {
        if (input.files && input.files.length) run(box, filesSource(input.files), true);
      });
      nodes.push(el("p", {}, [el("label", {}, [input])]));
    }
    return nodes;
  }
  function unavailable(box, why) {
    show(box, "unavailable", null, unavailableNodes(box, why));
    return { state: "unavailable", report: null };
  }
  async function run(box, source, remember) {
    box.setAttribute("data-state", "pending");
    box.replaceChildren(...both("p", ["Verificando…"], ["Checking…"]));
    if (!(await cryptoWorks())) return unavailable(box, "crypto");
    let report;
    try {
      report = await verifySite(source, { keptFor: (origin) => (keptRecord(origin) || { note: null }).note });
    } catch (error) {
      if (error instanceof Unavailable) return unavailable(box, "fetch");
      unavailable(box, "error");
      throw error;
    }
    if (report.ok) {
      const before = remember ? keepCheckpoint(report) : keptRecord(report.origin);
      show(box, "ok", report, okNodes(report, before));
    } else {
      show(box, "failed", report, failedNodes(report));
    }
    return { state: report.ok ? "ok" : "failed", report };
  }
  async function start() {
    const box = document.getElementById("vdto-verify");
    if (!box) return null;
    // a page opened from disk may not read its folder (and trying logs errors): ask for it
    if (global.location && global.location.protocol === "file:") return unavailable(box, "disk");
    return run(box, httpSource(document.baseURI), true);
  }

  const api = {
    verifySite,
    httpSource,
    filesSource,
    pyLoads,
    pyDumps,
    pyRepr,
    floatRepr,
    cryptoWorks,
    done: null,
  };
  if (typeof document !== "undefined") {
    api.done = start();
  }
  global.vdtoVerify = api;
  if (typeof module === "object" && module && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
