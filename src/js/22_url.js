"use strict";
// lazy-globals: URL URLSearchParams
// lazy-internals: parseForm serializeForm
// URL and URLSearchParams, following the WHATWG URL Standard's basic URL parser (with state
// override for the setters). Hosts: ASCII domains are lowercased; non-ASCII labels are converted
// with punycode after lowercasing (no full UTS #46 mapping - see tools/polyfills/README.md).

const SPECIAL = { "ftp:": 21, "file:": null, "http:": 80, "https:": 443, "ws:": 80, "wss:": 443 };
const isSpecialScheme = (scheme) => Object.prototype.hasOwnProperty.call(SPECIAL, scheme + ":");
const defaultPort = (scheme) => (isSpecialScheme(scheme) ? SPECIAL[scheme + ":"] : null);

// Code point classes (loops rather than regexps: see "Every request to a module worker" below).
const isAsciiAlpha = (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isAsciiDigit = (c) => c >= 0x30 && c <= 0x39;
const isAsciiHexDigit = (c) => isAsciiDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** `/[A-Za-z0-9+\-.]/`: what a scheme continues with. */
const isSchemeCodePoint = (c) => isAsciiAlpha(c) || isAsciiDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e;

// Percent-encode sets (as predicates on a code point).
const c0Control = (c) => c <= 0x1f || c > 0x7e;
const fragmentSet = (c) => c0Control(c) || c === 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60;
const querySet = (c) => c0Control(c) || c === 0x20 || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e;
const specialQuerySet = (c) => querySet(c) || c === 0x27;
const pathSet = (c) => querySet(c) || c === 0x3f || c === 0x5e || c === 0x60 || c === 0x7b || c === 0x7d;
const userinfoSet = (c) =>
  pathSet(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d || c === 0x40 || (c >= 0x5b && c <= 0x5d) || c === 0x7c;
const componentSet = (c) => userinfoSet(c) || (c >= 0x24 && c <= 0x26) || c === 0x2b || c === 0x2c;
const formSet = (c) => componentSet(c) || c === 0x21 || (c >= 0x27 && c <= 0x29) || c === 0x7e;

function percentEncodeCodePoint(cp, set) {
  if (!set(cp)) return String.fromCodePoint(cp);
  const bytes = internals.encodeUtf8(String.fromCodePoint(cp));
  let out = "";
  for (const b of bytes) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  return out;
}

function percentEncodeString(string, set, spaceAsPlus = false) {
  let out = "";
  for (const ch of string) {
    const cp = ch.codePointAt(0);
    if (spaceAsPlus && cp === 0x20) out += "+";
    else out += percentEncodeCodePoint(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp, set);
  }
  return out;
}

function percentDecodeBytes(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length && isAsciiHexDigit(bytes[i + 1]) && isAsciiHexDigit(bytes[i + 2])) {
      out.push(parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16));
      i += 2;
    } else {
      out.push(b);
    }
  }
  return new Uint8Array(out);
}
const utf8Decode = (bytes) => new TextDecoder().decode(bytes);

// ---------------------------------------------------------------------------------------------
// Hosts.

// Every request to a module worker parses a URL, and a snapshot keeps no compiled regular
// expression (V8 drops their code when it serialises a heap): a regexp on this path would be
// compiled again at the first request after every restore and in every fresh context. So the
// checks below are loops over code units, each equal to the regexp named beside it.

/** `/^[0-9]+$/` (radix 10), `/^[0-9A-Fa-f]+$/` (16), `/^[0-7]+$/` (8). */
function allDigits(input, radix) {
  if (input === "") return false;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    const valid = radix === 16 ? isAsciiHexDigit(c) : radix === 8 ? c >= 0x30 && c <= 0x37 : isAsciiDigit(c);
    if (!valid) return false;
  }
  return true;
}

/** `/^[\x00-\x7f]*$/`. */
function isAscii(input) {
  for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) > 0x7f) return false;
  return true;
}

const FORBIDDEN_DOMAIN_PUNCTUATION = " #%/:<>?@[\\]^|";
/** `/[\x00-\x1f\t\n\r #%/:<>?@[\\\]^|\x7f]/`: a forbidden domain code point. */
function hasForbiddenDomainCodePoint(input) {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f || FORBIDDEN_DOMAIN_PUNCTUATION.includes(input[i])) return true;
  }
  return false;
}

/** `input.split(/[.\u3002\uff0e\uff61]/)`. */
function splitLabels(input) {
  if (!input.includes("\u3002") && !input.includes("\uff0e") && !input.includes("\uff61")) {
    return input.split(".");
  }
  const labels = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x2e || c === 0x3002 || c === 0xff0e || c === 0xff61) {
      labels.push(input.slice(start, i));
      start = i + 1;
    }
  }
  labels.push(input.slice(start));
  return labels;
}

/** `input.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "")`: C0 controls and spaces trimmed. */
function trimControlOrSpace(input) {
  let start = 0;
  let end = input.length;
  while (start < end && input.charCodeAt(start) <= 0x20) start++;
  while (end > start && input.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === input.length ? input : input.slice(start, end);
}

/** `input.replace(/[\t\n\r]/g, "")`. */
function removeTabOrNewline(input) {
  if (!input.includes("\t") && !input.includes("\n") && !input.includes("\r")) return input;
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c !== 0x09 && c !== 0x0a && c !== 0x0d) out += input[i];
  }
  return out;
}

function parseIPv4Number(input) {
  if (input === "") return NaN;
  let radix = 10;
  if (input.length >= 2 && input[0] === "0" && (input[1] === "x" || input[1] === "X")) {
    input = input.slice(2);
    radix = 16;
  } else if (input.length >= 2 && input[0] === "0") {
    input = input.slice(1);
    radix = 8;
  }
  if (input === "") return 0;
  if (!allDigits(input, radix)) return NaN;
  return parseInt(input, radix);
}

function endsInANumber(input) {
  const parts = input.split(".");
  if (parts[parts.length - 1] === "") {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1];
  if (allDigits(last, 10)) return true;
  return !Number.isNaN(parseIPv4Number(last));
}

function parseIPv4(input) {
  const parts = input.split(".");
  if (parts[parts.length - 1] === "" && parts.length > 1) parts.pop();
  if (parts.length > 4) return null;
  const numbers = [];
  for (const part of parts) {
    const n = parseIPv4Number(part);
    if (Number.isNaN(n)) return null;
    numbers.push(n);
  }
  for (let i = 0; i < numbers.length - 1; i++) if (numbers[i] > 255) return null;
  if (numbers[numbers.length - 1] >= 256 ** (5 - numbers.length)) return null;
  let ipv4 = numbers[numbers.length - 1];
  for (let i = 0; i < numbers.length - 1; i++) ipv4 += numbers[i] * 256 ** (3 - i);
  return ipv4;
}

function serializeIPv4(address) {
  const out = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(String(address % 256));
    address = Math.floor(address / 256);
  }
  return out.join(".");
}

function parseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = null;
  let i = 0;
  const cps = Array.from(input, (c) => c.codePointAt(0));
  const at = (k) => cps[k];
  if (at(i) === 0x3a) {
    if (at(i + 1) !== 0x3a) return null;
    i += 2;
    pieceIndex++;
    compress = pieceIndex;
  }
  while (i < cps.length) {
    if (pieceIndex === 8) return null;
    if (at(i) === 0x3a) {
      if (compress !== null) return null;
      i++;
      pieceIndex++;
      compress = pieceIndex;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && i < cps.length && isAsciiHexDigit(at(i))) {
      value = value * 0x10 + parseInt(String.fromCodePoint(at(i)), 16);
      i++;
      length++;
    }
    if (at(i) === 0x2e) {
      if (length === 0) return null;
      i -= length;
      if (pieceIndex > 6) return null;
      let numbersSeen = 0;
      while (i < cps.length) {
        let ipv4Piece = null;
        if (numbersSeen > 0) {
          if (at(i) === 0x2e && numbersSeen < 4) i++;
          else return null;
        }
        if (!isAsciiDigit(at(i))) return null;
        while (isAsciiDigit(at(i))) {
          const number = at(i) - 0x30;
          if (ipv4Piece === null) ipv4Piece = number;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + number;
          if (ipv4Piece > 255) return null;
          i++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (at(i) === 0x3a) {
      i++;
      if (i >= cps.length) return null;
    } else if (i < cps.length) {
      return null;
    }
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const tmp = address[compress + swaps - 1];
      address[compress + swaps - 1] = address[pieceIndex];
      address[pieceIndex] = tmp;
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return null;
  }
  return address;
}

function serializeIPv6(address) {
  let bestStart = null;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (address[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let out = "";
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && address[i] === 0) continue;
    ignore0 = false;
    if (bestStart === i) {
      out += i === 0 ? "::" : ":";
      ignore0 = true;
      continue;
    }
    out += address[i].toString(16);
    if (i !== 7) out += ":";
  }
  return "[" + out + "]";
}

const FORBIDDEN_HOST = /[\x00\t\n\r #/:<>?@[\\\]^|]/;

// Punycode (RFC 3492) encoder for non-ASCII labels.
function punycodeEncode(input) {
  const cps = Array.from(input, (c) => c.codePointAt(0));
  let n = 128;
  let delta = 0;
  let bias = 72;
  let output = cps.filter((c) => c < 128).map((c) => String.fromCharCode(c)).join("");
  const basic = output.length;
  let handled = basic;
  if (basic) output += "-";
  const adapt = (d, numPoints, first) => {
    d = first ? Math.floor(d / 700) : d >> 1;
    d += Math.floor(d / numPoints);
    let k = 0;
    while (d > 455) {
      d = Math.floor(d / 35);
      k += 36;
    }
    return k + Math.floor((36 * d) / (d + 38));
  };
  const digit = (d) => String.fromCharCode(d + 22 + 75 * (d < 26));
  while (handled < cps.length) {
    const m = Math.min(...cps.filter((c) => c >= n));
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of cps) {
      if (c < n) delta++;
      if (c === n) {
        let q = delta;
        for (let k = 36; ; k += 36) {
          const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
          if (q < t) break;
          output += digit(t + ((q - t) % (36 - t)));
          q = Math.floor((q - t) / (36 - t));
        }
        output += digit(q);
        bias = adapt(delta, handled + 1, handled === basic);
        delta = 0;
        handled++;
      }
    }
    delta++;
    n++;
  }
  return output;
}

function domainToASCII(domain) {
  const labels = splitLabels(domain.toLowerCase().normalize("NFC"));
  return labels.map((label) => (isAscii(label) ? label : "xn--" + punycodeEncode(label))).join(".");
}

function parseOpaqueHost(input) {
  if (FORBIDDEN_HOST.test(input)) return null;
  return percentEncodeString(input, c0Control);
}

function parseHost(input, notSpecial) {
  if (input.startsWith("[")) {
    if (!input.endsWith("]")) return null;
    const address = parseIPv6(input.slice(1, -1));
    return address ? serializeIPv6(address) : null;
  }
  if (notSpecial) return parseOpaqueHost(input);
  const domain = utf8Decode(percentDecodeBytes(internals.encodeUtf8(input)));
  const ascii = domainToASCII(domain);
  if (ascii === "" || hasForbiddenDomainCodePoint(ascii)) return null;
  if (endsInANumber(ascii)) {
    const ipv4 = parseIPv4(ascii);
    return ipv4 === null ? null : serializeIPv4(ipv4);
  }
  return ascii;
}

// ---------------------------------------------------------------------------------------------
// The basic URL parser.

function newRecord() {
  return { scheme: "", username: "", password: "", host: null, port: null, path: [], opaque: false, query: null, fragment: null };
}

const isWindowsDriveLetter = (s, normalizedOnly) => s.length === 2 && isAsciiAlpha(s.charCodeAt(0)) && (s[1] === ":" || (!normalizedOnly && s[1] === "|"));
function startsWithWindowsDriveLetter(cps, i) {
  if (cps.length - i < 2) return false;
  const two = String.fromCodePoint(cps[i], cps[i + 1]);
  if (!isWindowsDriveLetter(two, false)) return false;
  if (cps.length - i === 2) return true;
  const c = cps[i + 2];
  return c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23;
}
function shortenPath(url) {
  if (url.scheme === "file" && url.path.length === 1 && isWindowsDriveLetter(url.path[0], true)) return;
  url.path.pop();
}
const isSingleDot = (s) => s === "." || s.toLowerCase() === "%2e";
const isDoubleDot = (s) => [".."].includes(s) || ["%2e.", ".%2e", "%2e%2e"].includes(s.toLowerCase());

const FAILURE = null;

function copyAuthority(url, base) {
  url.username = base.username;
  url.password = base.password;
  url.host = base.host;
  url.port = base.port;
}

function basicParse(input, base, url, stateOverride) {
  if (!url) {
    url = newRecord();
    input = trimControlOrSpace(input);
  }
  input = removeTabOrNewline(input);
  let state = stateOverride || "scheme start";
  let buffer = "";
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;
  const cps = Array.from(input, (c) => c.codePointAt(0));
  for (let pointer = 0; pointer <= cps.length; pointer++) {
    const c = cps[pointer];
    const ch = c === undefined ? "" : String.fromCodePoint(c);
    switch (state) {
      case "scheme start":
        if (c !== undefined && isAsciiAlpha(c)) {
          buffer += ch.toLowerCase();
          state = "scheme";
        } else if (!stateOverride) {
          state = "no scheme";
          pointer--;
        } else return FAILURE;
        break;
      case "scheme":
        if (c !== undefined && isSchemeCodePoint(c)) {
          buffer += ch.toLowerCase();
        } else if (ch === ":") {
          if (stateOverride) {
            if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
            if ((url.username || url.password || url.port !== null) && buffer === "file") return url;
            if (url.scheme === "file" && url.host === "") return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === defaultPort(url.scheme)) url.port = null;
            return url;
          }
          buffer = "";
          if (url.scheme === "file") {
            state = "file";
          } else if (isSpecialScheme(url.scheme) && base && base.scheme === url.scheme) {
            state = "special relative or authority";
          } else if (isSpecialScheme(url.scheme)) {
            state = "special authority slashes";
          } else if (cps[pointer + 1] === 0x2f) {
            state = "path or authority";
            pointer++;
          } else {
            url.opaque = true;
            url.path = "";
            state = "opaque path";
          }
        } else if (!stateOverride) {
          buffer = "";
          state = "no scheme";
          pointer = -1;
        } else return FAILURE;
        break;
      case "no scheme":
        if (!base || (base.opaque && ch !== "#")) return FAILURE;
        if (base.opaque && ch === "#") {
          url.scheme = base.scheme;
          url.path = base.path;
          url.opaque = true;
          url.query = base.query;
          url.fragment = "";
          state = "fragment";
        } else if (base.scheme !== "file") {
          state = "relative";
          pointer--;
        } else {
          state = "file";
          pointer--;
        }
        break;
      case "special relative or authority":
        if (ch === "/" && cps[pointer + 1] === 0x2f) {
          state = "special authority ignore slashes";
          pointer++;
        } else {
          state = "relative";
          pointer--;
        }
        break;
      case "path or authority":
        if (ch === "/") state = "authority";
        else {
          state = "path";
          pointer--;
        }
        break;
      case "relative":
        url.scheme = base.scheme;
        if (ch === "/") state = "relative slash";
        else if (isSpecialScheme(url.scheme) && ch === "\\") state = "relative slash";
        else {
          copyAuthority(url, base);
          url.path = base.path.slice();
          url.query = base.query;
          if (ch === "?") {
            url.query = "";
            state = "query";
          } else if (ch === "#") {
            url.fragment = "";
            state = "fragment";
          } else if (c !== undefined) {
            url.query = null;
            shortenPath(url);
            state = "path";
            pointer--;
          }
        }
        break;
      case "relative slash":
        if (isSpecialScheme(url.scheme) && (ch === "/" || ch === "\\")) {
          state = "special authority ignore slashes";
        } else if (ch === "/") {
          state = "authority";
        } else {
          copyAuthority(url, base);
          state = "path";
          pointer--;
        }
        break;
      case "special authority slashes":
        if (ch === "/" && cps[pointer + 1] === 0x2f) {
          state = "special authority ignore slashes";
          pointer++;
        } else {
          state = "special authority ignore slashes";
          pointer--;
        }
        break;
      case "special authority ignore slashes":
        if (ch !== "/" && ch !== "\\") {
          state = "authority";
          pointer--;
        }
        break;
      case "authority":
        if (ch === "@") {
          if (atSignSeen) buffer = "%40" + buffer;
          atSignSeen = true;
          for (const bc of buffer) {
            if (bc === ":" && !passwordTokenSeen) {
              passwordTokenSeen = true;
              continue;
            }
            const encoded = percentEncodeCodePoint(bc.codePointAt(0), userinfoSet);
            if (passwordTokenSeen) url.password += encoded;
            else url.username += encoded;
          }
          buffer = "";
        } else if (c === undefined || ch === "/" || ch === "?" || ch === "#" || (isSpecialScheme(url.scheme) && ch === "\\")) {
          if (atSignSeen && buffer === "") return FAILURE;
          pointer -= Array.from(buffer).length + 1;
          buffer = "";
          state = "host";
        } else {
          buffer += ch;
        }
        break;
      case "host":
      case "hostname":
        if (stateOverride && url.scheme === "file") {
          pointer--;
          state = "file host";
        } else if (ch === ":" && !insideBrackets) {
          if (buffer === "") return FAILURE;
          if (stateOverride === "hostname") return FAILURE;
          const host = parseHost(buffer, !isSpecialScheme(url.scheme));
          if (host === null) return FAILURE;
          url.host = host;
          buffer = "";
          state = "port";
        } else if (c === undefined || ch === "/" || ch === "?" || ch === "#" || (isSpecialScheme(url.scheme) && ch === "\\")) {
          pointer--;
          if (isSpecialScheme(url.scheme) && buffer === "") return FAILURE;
          if (stateOverride && buffer === "" && (url.username || url.password || url.port !== null)) return url;
          const host = parseHost(buffer, !isSpecialScheme(url.scheme));
          if (host === null) return FAILURE;
          url.host = host;
          buffer = "";
          state = "path start";
          if (stateOverride) return url;
        } else {
          if (ch === "[") insideBrackets = true;
          if (ch === "]") insideBrackets = false;
          buffer += ch;
        }
        break;
      case "port":
        if (c !== undefined && ch >= "0" && ch <= "9") {
          buffer += ch;
        } else if (c === undefined || ch === "/" || ch === "?" || ch === "#" || (isSpecialScheme(url.scheme) && ch === "\\") || stateOverride) {
          if (buffer !== "") {
            const port = parseInt(buffer, 10);
            if (port > 65535) return FAILURE;
            url.port = port === defaultPort(url.scheme) ? null : port;
            buffer = "";
            if (stateOverride) return url;
          }
          if (stateOverride) return FAILURE;
          state = "path start";
          pointer--;
        } else return FAILURE;
        break;
      case "file":
        url.scheme = "file";
        url.host = "";
        if (ch === "/" || ch === "\\") {
          state = "file slash";
        } else if (base && base.scheme === "file") {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (ch === "?") {
            url.query = "";
            state = "query";
          } else if (ch === "#") {
            url.fragment = "";
            state = "fragment";
          } else if (c !== undefined) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, pointer)) shortenPath(url);
            else url.path = [];
            state = "path";
            pointer--;
          }
        } else {
          state = "path";
          pointer--;
        }
        break;
      case "file slash":
        if (ch === "/" || ch === "\\") {
          state = "file host";
        } else {
          if (base && base.scheme === "file") {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, pointer) && base.path.length && isWindowsDriveLetter(base.path[0], true)) {
              url.path.push(base.path[0]);
            }
          }
          state = "path";
          pointer--;
        }
        break;
      case "file host":
        if (c === undefined || ch === "/" || ch === "\\" || ch === "?" || ch === "#") {
          pointer--;
          if (!stateOverride && isWindowsDriveLetter(buffer, false)) {
            state = "path";
          } else if (buffer === "") {
            url.host = "";
            if (stateOverride) return url;
            state = "path start";
          } else {
            let host = parseHost(buffer, false);
            if (host === null) return FAILURE;
            if (host === "localhost") host = "";
            url.host = host;
            if (stateOverride) return url;
            buffer = "";
            state = "path start";
          }
        } else {
          buffer += ch;
        }
        break;
      case "path start":
        if (isSpecialScheme(url.scheme)) {
          state = "path";
          if (ch !== "/" && ch !== "\\") pointer--;
        } else if (!stateOverride && ch === "?") {
          url.query = "";
          state = "query";
        } else if (!stateOverride && ch === "#") {
          url.fragment = "";
          state = "fragment";
        } else if (c !== undefined) {
          state = "path";
          if (ch !== "/") pointer--;
        } else if (stateOverride && url.host === null) {
          url.path.push("");
        }
        break;
      case "path":
        if (c === undefined || ch === "/" || (isSpecialScheme(url.scheme) && ch === "\\") || (!stateOverride && (ch === "?" || ch === "#"))) {
          const slash = ch === "/" || (isSpecialScheme(url.scheme) && ch === "\\");
          if (isDoubleDot(buffer)) {
            // As Node (ada) does: a non-special URL whose path is already empty stays empty.
            const hadSegments = url.path.length > 0;
            shortenPath(url);
            if (!slash && (isSpecialScheme(url.scheme) || hadSegments)) url.path.push("");
          } else if (isSingleDot(buffer) && !slash) {
            url.path.push("");
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === "file" && url.path.length === 0 && isWindowsDriveLetter(buffer, false)) {
              buffer = buffer[0] + ":";
            }
            url.path.push(buffer);
          }
          buffer = "";
          if (ch === "?") {
            url.query = "";
            state = "query";
          }
          if (ch === "#") {
            url.fragment = "";
            state = "fragment";
          }
        } else {
          buffer += percentEncodeCodePoint(c, pathSet);
        }
        break;
      case "opaque path":
        if (ch === "?") {
          url.query = "";
          state = "query";
        } else if (ch === "#") {
          url.fragment = "";
          state = "fragment";
        } else if (c !== undefined) {
          url.path += percentEncodeCodePoint(c, c0Control);
        }
        break;
      case "query":
        if ((!stateOverride && ch === "#") || c === undefined) {
          url.query += percentEncodeString(buffer, isSpecialScheme(url.scheme) ? specialQuerySet : querySet);
          buffer = "";
          if (ch === "#") {
            url.fragment = "";
            state = "fragment";
          }
        } else {
          buffer += ch;
        }
        break;
      case "fragment":
        if (c !== undefined) url.fragment += percentEncodeCodePoint(c >= 0xd800 && c <= 0xdfff ? 0xfffd : c, fragmentSet);
        break;
    }
  }
  return url;
}

function serializePath(url) {
  if (url.opaque) return url.path;
  let out = "";
  for (const segment of url.path) out += "/" + segment;
  return out;
}

function serializeURL(url, excludeFragment) {
  let out = url.scheme + ":";
  if (url.host !== null) {
    out += "//";
    if (url.username || url.password) {
      out += url.username;
      if (url.password) out += ":" + url.password;
      out += "@";
    }
    out += url.host;
    if (url.port !== null) out += ":" + url.port;
  } else if (!url.opaque && url.path.length > 1 && url.path[0] === "") {
    // Keeps "//" at the start of a host-less path from reading as an authority.
    out += "/.";
  }
  out += serializePath(url);
  if (url.query !== null) out += "?" + url.query;
  if (!excludeFragment && url.fragment !== null) out += "#" + url.fragment;
  return out;
}

function serializeOrigin(url) {
  switch (url.scheme) {
    case "blob": {
      const inner = basicParse(serializePath(url), null);
      return inner && (inner.scheme === "http" || inner.scheme === "https") ? serializeOrigin(inner) : "null";
    }
    case "ftp":
    case "http":
    case "https":
    case "ws":
    case "wss":
      return url.scheme + "://" + url.host + (url.port !== null ? ":" + url.port : "");
    default:
      return "null";
  }
}

// ---------------------------------------------------------------------------------------------
// application/x-www-form-urlencoded

function parseForm(input) {
  const list = [];
  for (const sequence of String(input).split("&")) {
    if (sequence === "") continue;
    const eq = sequence.indexOf("=");
    const name = eq >= 0 ? sequence.slice(0, eq) : sequence;
    const value = eq >= 0 ? sequence.slice(eq + 1) : "";
    const decode = (s) => utf8Decode(percentDecodeBytes(internals.encodeUtf8(s.replaceAll("+", " "))));
    list.push([decode(name), decode(value)]);
  }
  return list;
}

function serializeForm(list) {
  return list.map(([k, v]) => percentEncodeString(k, formSet, true) + "=" + percentEncodeString(v, formSet, true)).join("&");
}

/** Lone surrogates replaced by U+FFFD. */
function toUSVString(value) {
  return String(value).toWellFormed();
}

const LIST = Symbol("list");
const URL_OBJECT = Symbol("url");

class URLSearchParams {
  constructor(init = "") {
    this[LIST] = [];
    this[URL_OBJECT] = null;
    if (init instanceof URLSearchParams) {
      this[LIST] = init[LIST].map(([k, v]) => [k, v]);
    } else if (init !== null && typeof init === "object" || typeof init === "function") {
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const entry = Array.from(pair);
          if (entry.length !== 2) throw new TypeError("Each query pair must be an iterable [name, value] tuple");
          this[LIST].push([toUSVString(entry[0]), toUSVString(entry[1])]);
        }
      } else {
        for (const key of Reflect.ownKeys(init)) {
          const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
          if (descriptor && descriptor.enumerable && typeof key === "string") this[LIST].push([toUSVString(key), toUSVString(init[key])]);
        }
      }
    } else {
      let string = toUSVString(init);
      if (string.startsWith("?")) string = string.slice(1);
      this[LIST] = parseForm(string);
    }
  }
  #update() {
    const url = this[URL_OBJECT];
    if (!url) return;
    const serialized = serializeForm(this[LIST]);
    url.query = serialized === "" ? null : serialized;
  }
  get size() {
    return this[LIST].length;
  }
  append(name, value) {
    if (arguments.length < 2) throw new TypeError("URLSearchParams.append requires 2 arguments");
    this[LIST].push([toUSVString(name), toUSVString(value)]);
    this.#update();
  }
  delete(name, value) {
    name = toUSVString(name);
    const filter = value === undefined ? ([k]) => k !== name : ([k, v]) => !(k === name && v === toUSVString(value));
    this[LIST] = this[LIST].filter(filter);
    this.#update();
  }
  get(name) {
    name = toUSVString(name);
    const entry = this[LIST].find(([k]) => k === name);
    return entry ? entry[1] : null;
  }
  getAll(name) {
    name = toUSVString(name);
    return this[LIST].filter(([k]) => k === name).map(([, v]) => v);
  }
  has(name, value) {
    name = toUSVString(name);
    return this[LIST].some(([k, v]) => k === name && (value === undefined || v === toUSVString(value)));
  }
  set(name, value) {
    name = toUSVString(name);
    value = toUSVString(value);
    const index = this[LIST].findIndex(([k]) => k === name);
    if (index < 0) this[LIST].push([name, value]);
    else {
      this[LIST][index][1] = value;
      this[LIST] = this[LIST].filter(([k], i) => k !== name || i === index);
    }
    this.#update();
  }
  sort() {
    // Stable sort by UTF-16 code units of the names.
    this[LIST] = this[LIST]
      .map((entry, index) => [entry, index])
      .sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]))
      .map(([entry]) => entry);
    this.#update();
  }
  forEach(callback, thisArg) {
    if (typeof callback !== "function") throw new TypeError("The callback argument must be a function");
    for (let i = 0; i < this[LIST].length; i++) {
      const [k, v] = this[LIST][i];
      Reflect.apply(callback, thisArg, [v, k, this]);
    }
  }
  *keys() {
    for (let i = 0; i < this[LIST].length; i++) yield this[LIST][i][0];
  }
  *values() {
    for (let i = 0; i < this[LIST].length; i++) yield this[LIST][i][1];
  }
  *entries() {
    for (let i = 0; i < this[LIST].length; i++) yield [this[LIST][i][0], this[LIST][i][1]];
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    return serializeForm(this[LIST]);
  }
  get [Symbol.toStringTag]() {
    return "URLSearchParams";
  }
}

const RECORD = Symbol("record");
const QUERY = Symbol("query");

function parseOrThrow(input, base) {
  let baseRecord = null;
  if (base !== undefined) {
    baseRecord = basicParse(toUSVString(base), null);
    if (!baseRecord) throw new TypeError("Invalid base URL: " + base);
  }
  const record = basicParse(toUSVString(input), baseRecord);
  if (!record) {
    const error = new TypeError("Invalid URL" + (base === undefined ? ": " + input : ""));
    error.code = "ERR_INVALID_URL";
    error.input = String(input);
    throw error;
  }
  return record;
}

class URL {
  constructor(url, base) {
    if (arguments.length === 0) throw new TypeError('The "url" argument must be specified');
    this[RECORD] = parseOrThrow(url, base);
    this[QUERY] = new URLSearchParams(this[RECORD].query || "");
    this[QUERY][URL_OBJECT] = this[RECORD];
  }
  static canParse(url, base) {
    try {
      parseOrThrow(url, base);
      return true;
    } catch {
      return false;
    }
  }
  static parse(url, base) {
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }
  get href() {
    return serializeURL(this[RECORD]);
  }
  set href(value) {
    const record = parseOrThrow(value);
    this[RECORD] = record;
    this[QUERY][LIST] = parseForm(record.query || "");
    this[QUERY][URL_OBJECT] = record;
  }
  get origin() {
    return serializeOrigin(this[RECORD]);
  }
  get protocol() {
    return this[RECORD].scheme + ":";
  }
  set protocol(value) {
    basicParse(toUSVString(value) + ":", null, this[RECORD], "scheme start");
  }
  get username() {
    return this[RECORD].username;
  }
  set username(value) {
    const r = this[RECORD];
    if (r.host === null || r.host === "" || r.scheme === "file") return;
    r.username = percentEncodeString(toUSVString(value), userinfoSet);
  }
  get password() {
    return this[RECORD].password;
  }
  set password(value) {
    const r = this[RECORD];
    if (r.host === null || r.host === "" || r.scheme === "file") return;
    r.password = percentEncodeString(toUSVString(value), userinfoSet);
  }
  get host() {
    const r = this[RECORD];
    if (r.host === null) return "";
    return r.port === null ? r.host : r.host + ":" + r.port;
  }
  set host(value) {
    if (this[RECORD].opaque) return;
    basicParse(toUSVString(value), null, this[RECORD], "host");
  }
  get hostname() {
    return this[RECORD].host === null ? "" : this[RECORD].host;
  }
  set hostname(value) {
    if (this[RECORD].opaque) return;
    basicParse(toUSVString(value), null, this[RECORD], "hostname");
  }
  get port() {
    return this[RECORD].port === null ? "" : String(this[RECORD].port);
  }
  set port(value) {
    const r = this[RECORD];
    if (r.host === null || r.host === "" || r.scheme === "file") return;
    value = toUSVString(value);
    if (value === "") r.port = null;
    else basicParse(value, null, r, "port");
  }
  get pathname() {
    return serializePath(this[RECORD]);
  }
  set pathname(value) {
    const r = this[RECORD];
    if (r.opaque) return;
    r.path = [];
    basicParse(toUSVString(value), null, r, "path start");
  }
  get search() {
    const q = this[RECORD].query;
    return q === null || q === "" ? "" : "?" + q;
  }
  set search(value) {
    const r = this[RECORD];
    value = toUSVString(value);
    if (value === "") {
      r.query = null;
      this[QUERY][LIST] = [];
      return;
    }
    const input = value.startsWith("?") ? value.slice(1) : value;
    r.query = "";
    basicParse(input, null, r, "query");
    this[QUERY][LIST] = parseForm(input);
  }
  get searchParams() {
    return this[QUERY];
  }
  get hash() {
    const f = this[RECORD].fragment;
    return f === null || f === "" ? "" : "#" + f;
  }
  set hash(value) {
    const r = this[RECORD];
    value = toUSVString(value);
    if (value === "") {
      r.fragment = null;
      return;
    }
    const input = value.startsWith("#") ? value.slice(1) : value;
    r.fragment = "";
    basicParse(input, null, r, "fragment");
  }
  toString() {
    return this.href;
  }
  toJSON() {
    return this.href;
  }
  get [Symbol.toStringTag]() {
    return "URL";
  }
}

internals.defineGlobal("URL", URL);
internals.defineGlobal("URLSearchParams", URLSearchParams);
internals.parseForm = parseForm;
internals.serializeForm = serializeForm;
