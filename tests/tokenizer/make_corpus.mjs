// Deterministic tokenizer test corpus: >= 10,000 varied texts, one JSON string per line (so a
// text may hold newlines, CR, tabs). Seeded PRNG: the same seed gives the same bytes.
//
//   node tests/tokenizer/make_corpus.mjs [--out FILE] [--seed N] [--count N]
//
// Content: code in many languages, English prose, other scripts (incl. RTL), emoji (ZWJ, skin
// tones, flags, keycaps, tags), text that NFC changes, whitespace runs, CRLF, numbers in many
// digit systems, contractions, text that looks like special tokens, long pre-tokens (the BPE
// heap path) and random code points from well-established blocks. Every text is valid UTF-8.
//
// Deliberately left out (see tricky_lines.jsonl and reference.test.mjs): U+0085 and U+FEFF, on
// which JavaScript's \s differs from Hugging Face's (Oniguruma) \s, and characters assigned
// after Unicode 14 (PCRE2 10.42's tables), on which the regex engines' Unicode versions differ.

import fs from "node:fs";

export const DEFAULT_SEED = 20261127;
export const DEFAULT_COUNT = 12000;

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(seed) { this.next = mulberry32(seed); }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); }  // inclusive
  chance(p) { return this.next() < p; }
  pick(arr) { return arr[Math.floor(this.next() * arr.length)]; }
  picks(arr, n) { const out = []; for (let i = 0; i < n; i++) out.push(this.pick(arr)); return out; }
}

// ---------------------------------------------------------------- word lists

const EN_WORDS = (
  "the of and to in is was for on that with as it by be at this from are have or an not " +
  "which but they his her all were one can there their has been would more when if will " +
  "about so what out up into some could them other than then now only its time like just " +
  "people over also new because any these two may first way even most after where good " +
  "through back much before well should very still between never world life work system " +
  "program function server request response token model cache memory thread kernel " +
  "buffer pointer latency throughput performance configuration deployment container " +
  "dependency repository interface implementation algorithm structure variable compiler " +
  "runtime exception database transaction network protocol encryption authentication " +
  "quickly carefully unfortunately however therefore meanwhile nevertheless although " +
  "beautiful strange ancient modern simple complex obvious subtle brilliant terrible " +
  "mountain river forest ocean village castle garden library kitchen window morning " +
  "evening winter summer autumn spring yesterday tomorrow tonight history science music"
).split(" ");
const EN_NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Mallory", "O'Brien", "McDonald",
  "Zoë", "José", "François", "Nguyễn", "Łukasz", "Søren", "Björk", "Ødegaard", "Renée"];
const CONTRACTIONS = ["don't", "can't", "it's", "I'm", "you're", "we've", "they'll", "she'd",
  "he's", "won't", "isn't", "I'LL", "YOU'RE", "WE'VE", "It'S", "shouldn't've", "y'all",
  "rock'n'roll", "'tis", "o'clock", "ma'am", "that’s", "isn’t", "we’re", "'s", "'S", "'ll",
  "'LL", "'Re", "'ve", "'D", "'m", "'M", "'t", "'ſ", "l'été", "aujourd'hui", "Dell'Arte"];
const PUNCT = [".", ",", ";", ":", "!", "?", "...", "—", "–", "-", "(", ")", "[", "]", "\"",
  "'", "«", "»", "“", "”", "‘", "’", "…", "¿", "¡", "/", "&", "%", "#", "@", "*"];

const LANG_PHRASES = {
  de: ["Guten Morgen, wie geht es Ihnen?", "Die Straße ist heute sehr nass.",
    "Ich möchte ein Stück Käsekuchen bestellen.", "Größenänderung fehlgeschlagen",
    "Donaudampfschifffahrtsgesellschaftskapitän", "Übung macht den Meister.",
    "Wir müssen die Datenbank neu starten, bevor das Update läuft.", "Fußgängerübergänge"],
  fr: ["Bonjour, comment ça va ?", "L'été dernier, nous sommes allés à la plage.",
    "C'est déjà l'heure de dîner !", "Où est la bibliothèque ?", "Je n'ai pas compris « ça ».",
    "Les élèves ont réussi l'examen.", "Ça coûte 3,50 € — très cher !", "œuvre, cœur, Noël"],
  ru: ["Привет, как дела?", "Сегодня очень холодно на улице.", "Ёлка стоит в углу комнаты.",
    "Программа завершилась с ошибкой.", "Съешь же ещё этих мягких французских булок.",
    "Москва — столица России.", "Пожалуйста, проверьте настройки сервера."],
  el: ["Καλημέρα, τι κάνεις;", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.", "Ευχαριστώ πολύ!",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.", "αλφάβητο: α β γ δ ε ζ η θ", "ΆΈΉΊΌΎΏ άέήίόύώ ΐΰ"],
  ar: ["مرحبا، كيف حالك؟", "اللغة العربية جميلة جداً.", "شكراً جزيلاً لك!",
    "هذا البرنامج يعمل بشكل صحيح.", "السَّلَامُ عَلَيْكُمْ", "الرقم ١٢٣٤ مكتوب بالأرقام العربية"],
  he: ["שלום, מה שלומך?", "העברית נכתבת מימין לשמאל.", "תודה רבה!", "בְּרֵאשִׁית בָּרָא אֱלֹהִים",
    "השרת הופעל מחדש בהצלחה."],
  hi: ["नमस्ते, आप कैसे हैं?", "भारत एक विशाल देश है।", "धन्यवाद!", "मुझे हिंदी पढ़ना पसंद है।",
    "संख्या १२३ देवनागरी अंकों में", "क़िला ख़ूबसूरत है"],
  th: ["สวัสดีครับ", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", "ขอบคุณมากค่ะ",
    "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", "เลข ๑๒๓ เป็นเลขไทย"],
  zh: ["你好，世界！", "今天天气很好，我们去公园散步吧。", "机器学习是人工智能的一个分支。",
    "请检查服务器的配置文件。", "中华人民共和国", "繁體中文：這是一個測試。", "数字１２３和全角ＡＢＣ"],
  ja: ["こんにちは、世界！", "東京は日本の首都です。", "ありがとうございます。",
    "カタカナとひらがなと漢字を混ぜて書きます。", "ｶﾀｶﾅ（半角）", "今日は雨が降っています。",
    "プログラムがエラーで終了しました。"],
  ko: ["안녕하세요, 세계!", "한국어는 한글로 씁니다.", "감사합니다.", "서버를 다시 시작해 주세요.",
    "대한민국의 수도는 서울입니다."],
  vi: ["Xin chào, bạn khỏe không?", "Tiếng Việt có nhiều dấu thanh.", "Cảm ơn rất nhiều!"],
  tr: ["Merhaba, nasılsın?", "İstanbul'da yaşıyorum.", "Işık ılık, süt sıcak."],
  pl: ["Zażółć gęślą jaźń.", "Dzień dobry, jak się masz?"],
  misc: ["ქართული ენა", "Հայերեն լեզու", "አማርኛ", "ᏣᎳᎩ", "ꦧꦱꦗꦮ", "ܐܪܡܝܐ", "ދިވެހި",
    "Ελληνικά/Русский/中文 mixed", "ß ẞ ﬁ ﬂ ǅ ǈ ǋ", "ŉ ſ ı İ"],
};

const EMOJI = ["😀", "😂", "🥲", "😍", "🤔", "🙃", "🔥", "✨", "🚀", "💡", "✅", "❌", "⚠️", "❤️",
  "👍", "👋", "🎉", "🐛", "🦀", "🐍", "☕", "🍕", "🌍", "⭐", "📦", "🔧", "🧪", "🤖", "👀", "💯"];
const SKIN = ["\u{1F3FB}", "\u{1F3FC}", "\u{1F3FD}", "\u{1F3FE}", "\u{1F3FF}"];
const SKIN_BASES = ["👍", "👋", "🙌", "👏", "🤝", "✌", "🧑", "👩", "👨", "🙋", "💪"];
const ZWJ_SEQS = ["👨‍👩‍👧‍👦", "👩‍💻", "👨‍🚀", "🧑‍🔬", "🏳️‍🌈", "🏳️‍⚧️", "👩‍❤️‍👨", "🧑🏽‍🚀",
  "👩🏾‍💻", "🐻‍❄️", "❤️‍🔥", "🧔‍♂️", "👁️‍🗨️", "🏃‍♀️", "🏃🏻‍♂️‍➡️"];
const FLAGS = ["🇺🇸", "🇩🇪", "🇯🇵", "🇫🇷", "🇧🇷", "🇮🇳", "🇨🇳", "🇰🇷", "🇪🇺", "🇺🇦", "🇬🇧"];
const EMOJI_MISC = ["1️⃣", "#️⃣", "*️⃣", "©️", "™️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", "☺︎", "☺️", "🅰️"];

// Text that NFC changes (decomposed, reordered, singletons, exclusions, jamo).
const NFC_CHANGES = ["e\u0301", "E\u0301", "a\u0300", "A\u030A", "o\u0308", "u\u0308",
  "n\u0303", "c\u0327", "\u212B", "\u2126", "\u212A", "\u1100\u1161\u11A8", "\u1112\u1161\u11AB",
  "\uF900", "\uF9D0", "\u0958", "\u0959", "a\u0302\u0323", "a\u0323\u0302", "\u03B1\u0301",
  "\u0344", "\u2000", "\u2001", "o\u0308\u0304", "i\u0307", "\u0041\u030A\u0301", "e\u0301\u0301",
  "\u1E9B\u0323", "\u0CC6\u0CC2", "\u0B47\u0B3E", "\u09C7\u09BE", "\u30AB\u3099", "\u304B\u3099",
  "Cafe\u0301", "re\u0301sume\u0301", "nai\u0308ve", "Zoe\u0308", "\u00E9", "\u0065\u0338",
  "\u003C\u0338", "\u1FFD", "\u0340", "\u0374", "\u037E", "\u0387"];
const COMBINING = ["\u0301", "\u0300", "\u0308", "\u0327", "\u0338", "\u20DD", "\u0489",
  "\u0332", "\u036F", "\u1AB0", "\u1DC0", "\uFE20", "\u0E31", "\u094D", "\u05B7", "\u064E"];

const SPECIAL_LIKE = ["<|im_end|>", "<|im_start|>", "<|endoftext|>", "<|eot_id|>",
  "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
  "<|reserved_special_token_5|>", "<|reserved_special_token_250|>", "<think>", "</think>",
  "<tool_call>", "</tool_call>", "<tool_response>", "<|fim_prefix|>", "<|fim_middle|>",
  "<|fim_suffix|>", "<|file_sep|>", "<|repo_name|>", "<|vision_start|>", "<|image_pad|>",
  "<|im_", "<|im_end", "|im_end|>", "<|eot_id", "<|", "|>", "<<|im_end|>>", "<|IM_END|>",
  "< |im_end| >", "<|im end|>", "<thinking>", "<think", "think>", "<|python_tag|>", "<|eom_id|>",
  "<|finetune_right_pad_id|>", "<|step_id|>", "<|im_end|><|im_end|>", "<|eot_id|><|eot_id|>",
  "<|im_start|>assistant\n", "<|start_header_id|>user<|end_header_id|>\n\n", "<｜end▁of▁sentence｜>"];

const UNICODE_SPACES = ["\u00A0", "\u1680", "\u2002", "\u2003", "\u2007", "\u2009", "\u200A",
  "\u202F", "\u205F", "\u3000", "\u2028", "\u2029", "\u000B", "\u000C"];
const ZERO_WIDTH = ["\u200B", "\u200C", "\u200D", "\u2060", "\u200E", "\u200F", "\u202A",
  "\u202C", "\u2066", "\u2069", "\uFE0F", "\uFE0E", "\u00AD", "\u034F"];

// Blocks of long-assigned code points (<= Unicode 10) for random text.
const BLOCKS = [
  [0x20, 0x7e], [0xa1, 0x17f], [0x180, 0x24f], [0x250, 0x2af], [0x370, 0x3ff], [0x400, 0x4ff],
  [0x531, 0x556], [0x5d0, 0x5ea], [0x620, 0x64a], [0x660, 0x669], [0x905, 0x939], [0x966, 0x96f],
  [0xe01, 0xe30], [0xe50, 0xe59], [0x10a0, 0x10c5], [0x1e00, 0x1eff], [0x2010, 0x2027],
  [0x2030, 0x205e], [0x2070, 0x2071], [0x2074, 0x208e], [0x20a0, 0x20bf], [0x2100, 0x214f],
  [0x2150, 0x218b], [0x2190, 0x23ff], [0x2460, 0x24ff], [0x2500, 0x27bf], [0x2e80, 0x2e99],
  [0x3001, 0x303f], [0x3041, 0x3096], [0x30a1, 0x30fa], [0x3131, 0x318e], [0x4e00, 0x9fa5],
  [0xac00, 0xd7a3], [0xe000, 0xe0ff], [0xfb01, 0xfb06], [0xff01, 0xff5e], [0xff61, 0xff9f],
  [0xfffc, 0xfffd], [0x1d400, 0x1d4ff], [0x1d7ce, 0x1d7ff], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f],
  [0x1f680, 0x1f6c5], [0x1f900, 0x1f918], [0x20000, 0x2000f], [0x1, 0x8], [0xe, 0x1f],
  [0x7f, 0x84], [0x86, 0x9f]];

// ---------------------------------------------------------------- generators

function ident(r) {
  const parts = r.picks(["user", "id", "count", "buf", "data", "token", "cache", "node", "item",
    "index", "value", "result", "config", "handler", "request", "len", "ptr", "tmp", "x", "i"],
    r.int(1, 3));
  switch (r.int(0, 3)) {
    case 0: return parts.join("_");
    case 1: return parts[0] + parts.slice(1).map((p) => p[0].toUpperCase() + p.slice(1)).join("");
    case 2: return parts.join("_").toUpperCase();
    default: return parts.map((p) => p[0].toUpperCase() + p.slice(1)).join("");
  }
}

function number(r) {
  switch (r.int(0, 9)) {
    case 0: return String(r.int(0, 9));
    case 1: return String(r.int(10, 999));
    case 2: return String(r.int(1000, 99999999));
    case 3: return (r.next() * 1000).toFixed(r.int(1, 6));
    case 4: return "0x" + r.int(0, 0xffffff).toString(16).toUpperCase();
    case 5: return Array.from({ length: r.int(10, 40) }, () => r.int(0, 9)).join("");
    case 6: return r.int(1, 9) + "e-" + r.int(1, 30);
    case 7: return r.int(1, 999) + "," + String(r.int(0, 999)).padStart(3, "0") + "," +
      String(r.int(0, 999)).padStart(3, "0");
    case 8: return "+1 (" + r.int(200, 999) + ") " + r.int(200, 999) + "-" + r.int(1000, 9999);
    default: return r.pick(["٣٤٥", "१२३४", "１２３", "²³", "½", "Ⅻ", "⑦", "𝟙𝟚", "๓๔", "〇"]) +
      r.int(0, 99);
  }
}

function strLit(r) {
  return r.pick([`"${r.pick(EN_WORDS)} ${r.pick(EN_WORDS)}"`, `'${ident(r)}'`, `"%s: %d\\n"`,
    `"${r.pick(LANG_PHRASES[r.pick(Object.keys(LANG_PHRASES))])}"`, `"\\t\\x1b[31m"`, `""`,
    `"${r.pick(EMOJI)}"`, `\`\${${ident(r)}}\``, `"C:\\\\Users\\\\${r.pick(EN_NAMES)}"`]);
}

function indentUnit(r) { return r.pick(["    ", "  ", "\t", "        "]); }

const CODE = {
  c(r, ind) {
    const f = ident(r), a = ident(r);
    return `#include <stdio.h>\n#include "${ident(r)}.h"\n\nstatic int ${f}(const char *${a}, size_t n) {\n` +
      `${ind}for (size_t i = 0; i < n; ++i) {\n${ind}${ind}if (${a}[i] == '\\0') return -1;\n` +
      `${ind}}\n${ind}printf(${strLit(r)}, ${a}, (int)n);\n${ind}return ${number(r)};\n}\n`;
  },
  cpp(r, ind) {
    const t = ident(r);
    return `template <typename T>\nclass ${t} : public std::enable_shared_from_this<${t}<T>> {\n public:\n` +
      `${ind}explicit ${t}(std::vector<T> v) : v_(std::move(v)) {}\n` +
      `${ind}[[nodiscard]] auto size() const noexcept -> std::size_t { return v_.size(); }\n` +
      `${ind}std::unordered_map<std::string, int> m_{{${strLit(r)}, ${number(r)}}};\n` +
      ` private:\n${ind}std::vector<T> v_;  // NOLINT\n};\n` +
      `static_assert(sizeof(int) >= 4 && alignof(double) == 8, "ABI");\nint x = a->b ? c::d<e>(f) : g >> 2;`;
  },
  python(r, ind) {
    const f = ident(r).toLowerCase();
    return `import os, sys\nfrom typing import Optional\n\n@dataclass\nclass ${ident(r)}:\n` +
      `${ind}"""Docstring with ${r.pick(EN_WORDS)} and ${r.pick(CONTRACTIONS)}."""\n\n` +
      `${ind}def ${f}(self, x: int = ${number(r)}, *args, **kwargs) -> Optional[str]:\n` +
      `${ind}${ind}if x >= 0 and not self.${ident(r)}:\n${ind}${ind}${ind}return f"{x!r:>10}"\n` +
      `${ind}${ind}return [i ** 2 for i in range(x) if i % 3 == 0]  # comment\n`;
  },
  rust(r, ind) {
    return `use std::collections::HashMap;\n\n#[derive(Debug, Clone)]\npub struct ${ident(r)}<'a> {\n` +
      `${ind}name: &'a str,\n${ind}items: Vec<u32>,\n}\n\nimpl<'a> ${ident(r)}<'a> {\n` +
      `${ind}pub fn new(name: &'a str) -> Result<Self, Box<dyn std::error::Error>> {\n` +
      `${ind}${ind}let mut m: HashMap<&str, i64> = HashMap::new();\n` +
      `${ind}${ind}m.insert(${strLit(r)}, ${number(r)}_i64);\n${ind}${ind}Ok(Self { name, items: vec![] })\n${ind}}\n}\n`;
  },
  go(r, ind) {
    return `package main\n\nimport (\n${ind}"fmt"\n${ind}"net/http"\n)\n\nfunc ${ident(r)}(w http.ResponseWriter, req *http.Request) {\n` +
      `${ind}if err := req.ParseForm(); err != nil {\n${ind}${ind}http.Error(w, err.Error(), 400)\n${ind}${ind}return\n${ind}}\n` +
      `${ind}fmt.Fprintf(w, ${strLit(r)}, ${number(r)})\n${ind}ch := make(chan int, 8)\n${ind}go func() { ch <- 1 }()\n}\n`;
  },
  js(r, ind) {
    return `const ${ident(r)} = async (req, res) => {\n${ind}const { data = [] } = await fetch(\`/api/\${id}?q=\${encodeURIComponent(q)}\`).then((r) => r.json());\n` +
      `${ind}if (data?.length !== ${number(r)} || !!flag) throw new Error(${strLit(r)});\n` +
      `${ind}return data.map((x, i) => ({ ...x, i })).filter(Boolean); // ${r.pick(EN_WORDS)}\n};\nexport default ${ident(r)};\n`;
  },
  ts(r, ind) {
    return `interface ${ident(r)}<T extends object = {}> {\n${ind}readonly id: number;\n${ind}tags?: Array<string | null>;\n` +
      `${ind}[key: string]: unknown;\n}\ntype Fn = (a: number, ...rest: string[]) => Promise<void>;\n` +
      `let v: Record<string, number> = { a: ${number(r)} } as const satisfies object;\n`;
  },
  java(r, ind) {
    return `package com.example.${ident(r).toLowerCase()};\n\npublic final class ${ident(r)} implements Runnable {\n` +
      `${ind}private static final long serialVersionUID = ${number(r)}L;\n${ind}@Override\n${ind}public void run() {\n` +
      `${ind}${ind}System.out.println(${strLit(r)} + this.toString());\n${ind}${ind}List<Map<String, Integer>> xs = new ArrayList<>();\n${ind}}\n}\n`;
  },
  shell(r, ind) {
    return `#!/usr/bin/env bash\nset -euo pipefail\nfor f in "$@"; do\n${ind}if [[ -f "$f" && ! -L "$f" ]]; then\n` +
      `${ind}${ind}grep -E '^[a-z]+=[0-9]{2,}$' "$f" | sed 's/\\s\\+/ /g' >> "\${OUT:-/tmp/out}.log" 2>&1\n${ind}fi\ndone\n` +
      `echo "exit: $?" && ls -la ~/.config | awk '{print $9}' | sort -u | head -n ${r.int(1, 50)}\n`;
  },
  sql(r) {
    return `SELECT u.id, u.name, COUNT(o.id) AS n_orders\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\n` +
      `WHERE u.created_at >= '2024-01-0${r.int(1, 9)}' AND u.email LIKE '%@example.com'\n` +
      `GROUP BY u.id, u.name\nHAVING COUNT(o.id) > ${number(r)}\nORDER BY n_orders DESC\nLIMIT 10;\n`;
  },
  html(r, ind) {
    return `<!DOCTYPE html>\n<html lang="en">\n<head>\n${ind}<meta charset="utf-8">\n${ind}<title>${r.pick(EN_WORDS)} &amp; ${r.pick(EN_WORDS)}</title>\n</head>\n` +
      `<body>\n${ind}<div class="container" id="${ident(r)}" data-x='${number(r)}'>\n${ind}${ind}<p>Hello,&nbsp;<b>${r.pick(EN_NAMES)}</b>!</p>\n` +
      `${ind}${ind}<!-- comment -->\n${ind}</div>\n${ind}<script>window.x = 1 < 2 && 3 > 2;</script>\n</body>\n</html>\n`;
  },
  json(r, ind) {
    return JSON.stringify({ id: r.int(0, 1e6), name: r.pick(EN_NAMES), tags: r.picks(EN_WORDS, 3),
      nested: { ok: r.chance(0.5), value: Number(number(r).replace(/[^0-9.]/g, "") || 0), text: r.pick(LANG_PHRASES.zh) },
      escaped: "line1\nline2\t\"quoted\"" }, null, ind.length === 1 ? "\t" : ind.length);
  },
  yaml(r, ind) {
    return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n${ind}name: ${ident(r).toLowerCase()}\n${ind}labels:\n${ind}${ind}app: web\n` +
      `spec:\n${ind}replicas: ${r.int(1, 9)}\n${ind}template:\n${ind}${ind}spec:\n${ind}${ind}${ind}containers:\n` +
      `${ind}${ind}${ind}${ind}- name: app\n${ind}${ind}${ind}${ind}${ind}image: "registry.local/app:1.${r.int(0, 99)}"\n` +
      `${ind}${ind}${ind}${ind}${ind}args: ["--port=${r.int(1000, 9999)}", '--verbose']\n# comment: ${r.pick(EN_WORDS)}\n`;
  },
  markdown(r) {
    return `# ${r.pick(EN_WORDS)} ${r.pick(EN_WORDS)}\n\n## Installation\n\n1. Run \`npm install\`\n2. **Bold** and _italic_ and ~~strike~~\n` +
      `- [x] done\n- [ ] todo\n\n> Quote: ${r.pick(CONTRACTIONS)}\n\n| a | b |\n|---|:-:|\n| ${number(r)} | ${r.pick(EMOJI)} |\n\n` +
      "```python\nprint('hi')\n```\n\n[link](https://example.com/path?q=1&r=2#frag) ![img](a.png)\n";
  },
  diff(r) {
    const f = ident(r).toLowerCase();
    return `diff --git a/src/${f}.cc b/src/${f}.cc\nindex 3f2a1b0..9c8d7e6 100644\n--- a/src/${f}.cc\n+++ b/src/${f}.cc\n` +
      `@@ -${r.int(1, 400)},7 +${r.int(1, 400)},8 @@ void ${ident(r)}() {\n   int a = 0;\n-  return a;\n+  if (a) {\n+    return a + ${number(r)};\n+  }\n   // done\n`;
  },
};

function code(r) {
  const lang = r.pick(Object.keys(CODE));
  let text = CODE[lang](r, indentUnit(r));
  if (r.chance(0.1)) text = text.replace(/\n/g, "\r\n");  // CRLF files
  if (r.chance(0.2)) {  // a fragment, as in an editor selection
    const lines = text.split("\n");
    const a = r.int(0, lines.length - 1);
    text = lines.slice(a, a + r.int(1, 6)).join("\n");
  }
  if (r.chance(0.15)) text = text + "\n".repeat(r.int(1, 4));
  return text;
}

function sentence(r) {
  const n = r.int(3, 25);
  const words = [];
  for (let i = 0; i < n; i++) {
    const k = r.next();
    if (k < 0.07) words.push(r.pick(CONTRACTIONS));
    else if (k < 0.1) words.push(r.pick(EN_NAMES));
    else if (k < 0.13) words.push(number(r));
    else if (k < 0.15) words.push(r.pick(EN_WORDS).toUpperCase());
    else words.push(r.pick(EN_WORDS));
    if (r.chance(0.08)) words[words.length - 1] += r.pick(PUNCT);
  }
  let s = words.join(" ");
  s = s[0].toUpperCase() + s.slice(1) + r.pick([".", ".", ".", "!", "?", "...", ":", ""]);
  return s;
}

function prose(r) {
  const n = r.int(1, 6);
  const sents = [];
  for (let i = 0; i < n; i++) sents.push(sentence(r));
  return sents.join(r.pick([" ", " ", "  ", "\n", "\n\n", "\r\n"]));
}

function multilingual(r) {
  const keys = Object.keys(LANG_PHRASES);
  const n = r.int(1, 4);
  const parts = [];
  for (let i = 0; i < n; i++) {
    const lang = r.chance(0.3) ? "en" : r.pick(keys);
    parts.push(lang === "en" ? sentence(r) : r.pick(LANG_PHRASES[lang]));
  }
  return parts.join(r.pick([" ", "\n", " — ", "", "\t"]));
}

function emoji(r) {
  const n = r.int(1, 12);
  let s = "";
  for (let i = 0; i < n; i++) {
    switch (r.int(0, 6)) {
      case 0: s += r.pick(EMOJI); break;
      case 1: s += r.pick(SKIN_BASES) + r.pick(SKIN); break;
      case 2: s += r.pick(ZWJ_SEQS); break;
      case 3: s += r.pick(FLAGS); break;
      case 4: s += r.pick(EMOJI_MISC); break;
      case 5: s += " " + r.pick(EN_WORDS); break;
      default: s += r.pick([" ", "", "!", "\n", r.pick(EMOJI) + r.pick(EMOJI)]);
    }
  }
  return s;
}

function nfcText(r) {
  const n = r.int(1, 8);
  let s = "";
  for (let i = 0; i < n; i++) {
    switch (r.int(0, 3)) {
      case 0: s += r.pick(NFC_CHANGES); break;
      case 1: s += r.pick(EN_WORDS) + r.pick(COMBINING) + (r.chance(0.3) ? r.pick(COMBINING) : ""); break;
      case 2: s += " " + r.pick(NFC_CHANGES) + r.pick(EN_WORDS); break;
      default: s += r.pick([" ", "'", "-", "1", "\n", "<|im_end|>" + r.pick(COMBINING)]);
    }
  }
  return s;
}

function whitespace(r) {
  const n = r.int(1, 10);
  let s = r.chance(0.5) ? "" : r.pick(EN_WORDS);
  for (let i = 0; i < n; i++) {
    switch (r.int(0, 6)) {
      case 0: s += " ".repeat(r.int(1, 40)); break;
      case 1: s += "\t".repeat(r.int(1, 8)); break;
      case 2: s += "\n".repeat(r.int(1, 6)); break;
      case 3: s += "\r\n".repeat(r.int(1, 4)); break;
      case 4: s += r.pick(UNICODE_SPACES).repeat(r.int(1, 3)); break;
      case 5: s += r.pick([" \t \n", "\n \n", " \r", "\r", "\n\t\t", "  \n  ", " \u00A0 "]); break;
      default: s += r.pick(EN_WORDS) + r.pick(["", ".", "!", "?"]);
    }
  }
  if (r.chance(0.3)) s += " ".repeat(r.int(1, 5));
  return s;
}

function numbers(r) {
  const n = r.int(1, 8);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(r.chance(0.7) ? number(r) : r.pick(EN_WORDS));
  return parts.join(r.pick([" ", ", ", "", "-", "/", ":", "."]));
}

function specialLike(r) {
  const n = r.int(1, 6);
  let s = "";
  for (let i = 0; i < n; i++) {
    switch (r.int(0, 4)) {
      case 0: s += r.pick(SPECIAL_LIKE); break;
      case 1: s += " " + r.pick(SPECIAL_LIKE) + " "; break;
      case 2: s += sentence(r); break;
      case 3: s += r.pick(SPECIAL_LIKE) + r.pick(["user\n", "assistant\n", "\n", "x", "\u00E9", ""]); break;
      default: s += r.pick(["<", ">", "|", "<|", "|>", " ", "\n", "<<", ">>", "a<|b"]);
    }
  }
  return s;
}

function longPieces(r) {
  switch (r.int(0, 7)) {
    case 0: return "a".repeat(r.int(60, 300));
    case 1: {  // base64-ish blob: long letter runs between digits
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      let s = "";
      for (let i = r.int(80, 600); i > 0; i--) s += alphabet[r.int(0, 63)];
      return s + "==";
    }
    case 2: return r.pick(["=", "-", "*", "#", "~", ".", "/"]).repeat(r.int(30, 200));
    case 3: return " ".repeat(r.int(65, 500)) + r.pick(["x", "", "\n"]);
    case 4: return "\n".repeat(r.int(20, 120));
    case 5: { let s = ""; for (let i = r.int(20, 80); i > 0; i--) s += r.pick(EN_WORDS); return s; }
    case 6: return r.pick(LANG_PHRASES.zh).repeat(r.int(5, 40));
    default: return r.pick(EMOJI).repeat(r.int(10, 50));
  }
}

function randomCodePoints(r) {
  const n = r.int(1, 40);
  let s = "";
  for (let i = 0; i < n; i++) {
    const [lo, hi] = r.pick(BLOCKS);
    s += String.fromCodePoint(r.int(lo, hi));
    if (r.chance(0.1)) s += r.pick(ZERO_WIDTH);
    if (r.chance(0.05)) s += r.pick(COMBINING);
    if (r.chance(0.1)) s += " ";
  }
  return s;
}

function mixed(r) {
  const gens = [sentence, number, (x) => x.pick(SPECIAL_LIKE), emoji, nfcText,
    (x) => x.pick(UNICODE_SPACES), (x) => CODE[x.pick(Object.keys(CODE))](x, " ").slice(0, x.int(5, 80))];
  let s = "";
  for (let i = r.int(2, 6); i > 0; i--) s += r.pick(gens)(r) + r.pick(["", " ", "\n"]);
  return s;
}

const KINDS = [
  [code, 28], [prose, 22], [multilingual, 14], [emoji, 5], [nfcText, 5], [whitespace, 6],
  [numbers, 5], [specialLike, 6], [longPieces, 3], [randomCodePoints, 4], [mixed, 2]];

export function makeCorpus({ seed = DEFAULT_SEED, count = DEFAULT_COUNT } = {}) {
  const r = new Rng(seed);
  const total = KINDS.reduce((a, [, w]) => a + w, 0);
  const out = [];
  for (let i = 0; i < count; i++) {
    let k = r.next() * total;
    let gen = KINDS[0][0];
    for (const [g, w] of KINDS) {
      if (k < w) { gen = g; break; }
      k -= w;
    }
    const text = gen(r);
    if (/[\u0085\uFEFF]/u.test(text)) throw new Error("corpus must not hold U+0085 or U+FEFF");
    out.push(text);
  }
  return out;
}

// The corpus as JSONL text (one JSON string per line).
export function corpusJsonl(texts) {
  return texts.map((t) => JSON.stringify(t)).join("\n") + "\n";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : def;
  };
  const texts = makeCorpus({ seed: Number(arg("--seed", DEFAULT_SEED)),
    count: Number(arg("--count", DEFAULT_COUNT)) });
  const out = arg("--out", null);
  if (out) fs.writeFileSync(out, corpusJsonl(texts));
  else process.stdout.write(corpusJsonl(texts));
}
