// The page's languages: 简体中文, 繁體中文 and English, chosen per browser (localStorage).
// Strings are written in English in the code and the page; `t(english, params)` gives them in the
// current language. `translatePage()` translates the page's own text (text nodes, title,
// aria-label and placeholder) in place, remembering the English so that a switch back works.

export const LANGUAGES = { "zh-Hans": "简体中文", "zh-Hant": "繁體中文", en: "English" };
const KEY = "xqgpt.language";
const TITLE = { "zh-Hans": "Xiangqi-GPT · 象棋对弈", "zh-Hant": "Xiangqi-GPT · 象棋對弈", en: "Xiangqi-GPT" };

// English -> [简体, 繁體]. `{name}` is filled in by t().
const STRINGS = {
  // the page
  "象棋 · play the GPT-2 move model": ["象棋 · 与 GPT-2 走子模型对弈", "象棋 · 與 GPT-2 走子模型對弈"],
  "Loading…": ["加载中…", "載入中…"],
  "Xiangqi board. Arrow keys move the cursor, Enter or Space picks up and drops a piece, Escape cancels.": [
    "象棋棋盘。方向键移动光标，回车或空格键拿起、放下棋子，Esc 取消。",
    "象棋棋盤。方向鍵移動游標，Enter 或空白鍵拿起、放下棋子，Esc 取消。"],
  "Board": ["棋盘", "棋盤"],
  "New game": ["新对局", "新對局"],
  "Close": ["关闭", "關閉"],
  "Close the banner": ["关闭提示", "關閉提示"],
  "Undo": ["悔棋", "悔棋"],
  "Take back your last move (U)": ["收回你的上一步（U）", "收回你的上一步（U）"],
  "Flip": ["翻转", "翻轉"],
  "Turn the board around (F)": ["翻转棋盘（F）", "翻轉棋盤（F）"],
  "Resign": ["认输", "認輸"],
  "Give up this game": ["认输本局", "認輸本局"],
  "Continue from here": ["从这里接着下", "從這裡接著下"],
  "Start a game of your own from this position": ["从这个局面开始你自己的一局", "從這個局面開始你自己的一局"],
  "A shared game (watching only): continue from here to play on.": [
    "别人分享的对局（只能观看）：点“从这里接着下”来继续下。", "別人分享的對局（只能觀看）：點「從這裡接著下」來繼續下。"],
  "Model's candidates": ["模型候选着法", "模型候選著法"],
  "You play": ["你执", "你執"],
  "Red (first)": ["红方（先走）", "紅方（先走）"],
  "Red": ["红方", "紅方"],
  "Black": ["黑方", "黑方"],
  "Strength": ["棋力", "棋力"],
  "Moves": ["着法", "著法"],
  "Notation": ["记谱法", "記譜法"],
  "The model's candidates for its last move": ["模型上一步的候选着法", "模型上一步的候選著法"],
  "PGN": ["棋谱", "棋譜"],
  "Export PGN": ["导出 PGN", "匯出 PGN"],
  "Open file…": ["打开文件…", "開啟檔案…"],
  "Paste a game to import it:": ["粘贴棋谱以导入：", "貼上棋譜以匯入："],
  "Import PGN": ["导入棋谱", "匯入棋譜"],
  '[Event "..."]\n1. 炮二平五 马８进７ ...': ["1. 炮二平五 马８进７ 2. 马二进三 车９平８ ...", "1. 炮二平五 馬８進７ 2. 馬二進三 車９平８ ..."],
  "Saved games": ["已存对局", "已存對局"],
  "Refresh": ["刷新", "重新整理"],
  "Language": ["语言", "語言"],
  "Sounds": ["声音", "聲音"],
  "Move": ["走子", "走子"],
  "Capture": ["吃子", "吃子"],
  "Check": ["将军", "將軍"],
  "Share": ["分享", "分享"],
  "Copy game link": ["复制对局链接", "複製對局連結"],
  "Copy position link": ["复制局面链接", "複製局面連結"],
  "Link": ["链接", "連結"],
  "Link copied.": ["链接已复制。", "連結已複製。"],
  "Copy the link below.": ["请复制下面的链接。", "請複製下面的連結。"],
  "Drop a game file anywhere on the page, or open one: PGN, XQF, CBR, CBL, CBF or DhtmlXQ.": [
    "把棋谱文件拖到页面任意处，或打开文件：PGN、XQF、CBR、CBL、CBF 或 DhtmlXQ。",
    "把棋譜檔案拖到頁面任意處，或開啟檔案：PGN、XQF、CBR、CBL、CBF 或 DhtmlXQ。"],
  "Drop the file to import it": ["松开即可导入", "放開即可匯入"],
  // messages
  "Checkmate": ["将死", "將死"],
  "Stalemate (no legal move)": ["困毙（无着可走）", "困斃（無著可走）"],
  "Perpetual check": ["长将", "長將"],
  "Perpetual chase": ["长捉", "長捉"],
  "Draw by repetition": ["重复局面判和", "重複局面判和"],
  "Draw by the move limit": ["限着判和", "限著判和"],
  "Resignation": ["认输", "認輸"],
  "Game over": ["对局结束", "對局結束"],
  "Model weighed:": ["模型考虑：", "模型考慮："],
  "Start a new game.": ["开始新对局。", "開始新對局。"],
  "The model is thinking…": ["模型思考中…", "模型思考中…"],
  "Your move ({side})": ["轮到你走（{side}）", "輪到你走（{side}）"],
  "Check!": ["将军！", "將軍！"],
  "Waiting for the model…": ["等待模型走棋…", "等待模型走棋…"],
  "{side} wins ({result})": ["{side}胜（{result}）", "{side}勝（{result}）"],
  "You win": ["你赢了", "你贏了"],
  "The model wins": ["模型获胜", "模型獲勝"],
  "{ending} ({result})": ["{ending}（{result}）", "{ending}（{result}）"],
  "Resign? Click again": ["确定认输？再点一次", "確定認輸？再點一次"],
  "The start position: click the last move to return to the game.": ["开局局面：点最后一步回到对局。",
    "開局局面：點最後一步回到對局。"],
  "After {move}: click the last move to return to the game.": ["{move} 之后的局面：点最后一步回到对局。",
    "{move} 之後的局面：點最後一步回到對局。"],
  "Draw ({result})": ["和棋（{result}）", "和棋（{result}）"],
  "the model played {move}": ["模型走了{move}", "模型走了{move}"],
  "in play": ["进行中", "進行中"],
  "{title} · you {side} · {level} · {moves} · {outcome}": [
    "{title} · 你执{side} · {level} · {moves} · {outcome}", "{title} · 你執{side} · {level} · {moves} · {outcome}"],
  // a move is a move of each side (a 回合); a game of 77 plies has 39
  "{n} move": ["{n} 回合", "{n} 回合"],
  "{n} moves": ["{n} 回合", "{n} 回合"],
  "{name} holds {n} game:": ["{name} 共有 {n} 局：", "{name} 共有 {n} 局："],
  "{name} holds {n} games:": ["{name} 共有 {n} 局：", "{name} 共有 {n} 局："],
  "Games in the file": ["文件中的对局", "檔案中的對局"],
  "Open this game": ["打开这一局", "開啟這一局"],
  "Resume": ["继续", "繼續"],
  "View": ["查看", "查看"],
  "{action} game {id}": ["{action}对局 {id}", "{action}對局 {id}"],
  "No saved games yet.": ["还没有已存对局。", "還沒有已存對局。"],
  "Game {id}": ["对局 {id}", "對局 {id}"],
  "{name} (≤ {s} s)": ["{name}（≤ {s} 秒）", "{name}（≤ {s} 秒）"],
  "{name} · Elo {elo}": ["{name} · 等级分 {elo}", "{name} · 等級分 {elo}"],
  "rated {elo} ({low}–{high}) against Fairy-Stockfish": ["对 Fairy-Stockfish 实测等级分 {elo}（{low}–{high}）",
    "對 Fairy-Stockfish 實測等級分 {elo}（{low}–{high}）"],
  "Paste a game or open a file first.": ["请先粘贴棋谱或打开文件。", "請先貼上棋譜或開啟檔案。"],
  "{name} is too large ({size} kB; at most {max} kB).": ["{name} 太大（{size} kB，最多 {max} kB）。",
    "{name} 太大（{size} kB，最多 {max} kB）。"],
  "Imported {name}.": ["已导入 {name}。", "已匯入 {name}。"],
  "{side} wins by checkmate": ["{side}胜：将死", "{side}勝：將死"],
  "{side} wins: {loser} has no legal move": ["{side}胜：{loser}无着可走", "{side}勝：{loser}無著可走"],
  "{side} loses by perpetual check": ["{side}长将判负", "{side}長將判負"],
  "{side} loses by perpetual chase": ["{side}长捉判负", "{side}長捉判負"],
  "{side} loses by perpetually chasing the {piece} on {square}": ["{side}长捉{piece}（{square}）判负",
    "{side}長捉{piece}（{square}）判負"],
  "red {piece}": ["红{piece}", "紅{piece}"],
  empty: ["空", "空"],
  "black {piece}": ["黑{piece}", "黑{piece}"],
  // the analysis (analysis.js)
  "Evaluation bar: Red's share at the bottom": ["评估条：底部为红方的份额", "評估條：底部為紅方的份額"],
  "Evaluation bar: Red's share at the top": ["评估条：顶部为红方的份额", "評估條：頂部為紅方的份額"],
  Hint: ["提示", "提示"],
  "The search's best move here": ["搜索给出的此处最佳着法", "搜尋給出的此處最佳著法"],
  Evaluation: ["评估", "評估"],
  Analysis: ["分析", "分析"],
  "Analyse this game": ["分析本局", "分析本局"],
  "Analysis board": ["分析棋盘", "分析棋盤"],
  "Every move evaluated, with inaccuracies (?!), mistakes (?) and blunders (??) marked.": [
    "逐步评估，标出欠佳（?!）、错着（?）和败着（??）。", "逐步評估，標出欠佳（?!）、錯著（?）和敗著（??）。"],
  "Close the analysis": ["关闭分析", "關閉分析"],
  "Evaluation bar": ["评估条", "評估條"],
  "First position": ["第一个局面", "第一個局面"],
  "Previous move": ["上一步", "上一步"],
  "Next move": ["下一步", "下一步"],
  "Last position": ["最后局面", "最後局面"],
  "Paste a FEN or a PGN game:": ["粘贴 FEN 或 PGN 棋谱：", "貼上 FEN 或 PGN 棋譜："],
  Analyse: ["分析", "分析"],
  Nodes: ["节点数", "節點數"],
  "Evaluation graph: Red's expected score over the game": ["评估曲线：红方全局的期望得分", "評估曲線：紅方全局的期望得分"],
  "Evaluation {score} · Red {red}% · draw {draw}% · Black {black}%": [
    "评估 {score} · 红胜 {red}% · 和 {draw}% · 黑胜 {black}%", "評估 {score} · 紅勝 {red}% · 和 {draw}% · 黑勝 {black}%"],
  "Best line: {line}": ["最佳变着：{line}", "最佳變著：{line}"],
  "No move to hint: the game is over.": ["对局已结束，没有提示。", "對局已結束，沒有提示。"],
  "Still thinking…": ["还在思考…", "還在思考…"],
  "Hint: {move}": ["提示：{move}", "提示：{move}"],
  "Red: {red} · Black: {black}": ["红方：{red} · 黑方：{black}", "紅方：{red} · 黑方：{black}"],
  "{n} inaccuracy": ["{n} 欠佳", "{n} 欠佳"],
  "{n} inaccuracies": ["{n} 欠佳", "{n} 欠佳"],
  "{n} mistake": ["{n} 错着", "{n} 錯著"],
  "{n} mistakes": ["{n} 错着", "{n} 錯著"],
  "{n} blunder": ["{n} 败着", "{n} 敗著"],
  "{n} blunders": ["{n} 败着", "{n} 敗著"],
  "{n} unclear": ["{n} 存疑", "{n} 存疑"],
  unclear: ["存疑", "存疑"],
  blunder: ["败着", "敗著"],
  mistake: ["错着", "錯著"],
  inaccuracy: ["欠佳", "欠佳"],
  "Analysing… {done}/{total} positions": ["分析中… {done}/{total} 个局面", "分析中… {done}/{total} 個局面"],
  // levels (names and the server's descriptions)
  beginner: ["入门", "入門"],
  casual: ["休闲", "休閒"],
  club: ["俱乐部", "俱樂部"],
  master: ["大师", "大師"],
  expert: ["专家", "專家"],
  "samples the model's moves at temperature 1.0: often plays odd moves": [
    "按温度 1.0 抽样模型的着法：常走怪招", "按溫度 1.0 抽樣模型的著法：常走怪招"],
  "samples among the model's 4 best moves at temperature 0.5": [
    "在模型最好的 4 步中按温度 0.5 抽样", "在模型最好的 4 步中按溫度 0.5 抽樣"],
  "always plays the model's most likely move": ["总是走模型认为最可能的一步", "總是走模型認為最可能的一步"],
  "the model's best candidates checked by a 2-ply search: no hanging pieces, no mate in one": [
    "模型的最佳候选经两层搜索检验：不白丢子，不被一步杀", "模型的最佳候選經兩層搜尋檢驗：不白丟子，不被一步殺"],
  "searches the model's moves with the value net (PUCT tree search), up to 1 s a move": [
    "用价值网络搜索模型的着法（PUCT 树搜索），每步最多 1 秒", "用價值網路搜尋模型的著法（PUCT 樹搜尋），每步最多 1 秒"],
};

// How the server words a game's ending (xiangqi Outcome.describe), and the pieces it names.
const ENDINGS = [
  [/^(Red|Black) wins by checkmate$/, (m) => t("{side} wins by checkmate", { side: t(m[1]) })],
  [/^(Red|Black) wins: (Red|Black) has no legal move$/,
    (m) => t("{side} wins: {loser} has no legal move", { side: t(m[1]), loser: t(m[2]) })],
  [/^(Red|Black) loses by perpetual check$/, (m) => t("{side} loses by perpetual check", { side: t(m[1]) })],
  [/^(Red|Black) loses by perpetual chase$/, (m) => t("{side} loses by perpetual chase", { side: t(m[1]) })],
  [/^(Red|Black) loses by perpetually chasing the (red|black) (\w+) on ([a-i]\d)$/,
    (m) => t("{side} loses by perpetually chasing the {piece} on {square}", {
      side: t(m[1]), piece: t(`${m[2]} {piece}`, { piece: pieceName(m[2], m[3]) }), square: m[4] })],
];
const PIECES = {
  red: { general: "帅", advisor: "仕", elephant: "相", horse: "马", chariot: "车", cannon: "炮", soldier: "兵" },
  black: { general: "将", advisor: "士", elephant: "象", horse: "马", chariot: "车", cannon: "炮", soldier: "卒" },
};
// Simplified -> Traditional for the characters of Chinese move notation and piece names.
const TRADITIONAL = { 马: "馬", 车: "車", 帅: "帥", 将: "將", 进: "進", 后: "後" };

let language = initialLanguage();
const listeners = [];
const originals = new WeakMap();  // text node -> its English text

function initialLanguage() {
  const saved = localStorage.getItem(KEY);
  if (saved in LANGUAGES) return saved;
  for (const tag of navigator.languages || [navigator.language]) {
    const lower = (tag || "").toLowerCase();
    if (/^zh-(hant|tw|hk|mo)/.test(lower)) return "zh-Hant";
    if (lower.startsWith("zh")) return "zh-Hans";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export const currentLanguage = () => language;

export const isChinese = () => language !== "en";

function column() {
  return language === "zh-Hans" ? 0 : 1;
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** `english` in the current language, with `{name}` filled in from `params`. */
export function t(english, params = {}) {
  const row = STRINGS[english];
  return fill(language === "en" || !row ? english : row[column()], params);
}

/** `count` things: `one` or `many` (English words with `{n}`, for t()) filled in with `n: count`. */
export function tn(count, one, many, params = {}) {
  return t(count === 1 ? one : many, { ...params, n: count });
}

// Chinese sentences take full-width punctuation: "0 欠佳，0 错着", not "0 欠佳, 0 错着".
const PUNCTUATION = { ",": ["，", ", "], ";": ["；", "; "] };

/** `items` joined by `mark` ("," or ";") as the current language writes it. */
export function joined(items, mark = ",") {
  return items.join(PUNCTUATION[mark][language === "en" ? 1 : 0]);
}

/** Simplified Chinese text (the server's move notation) in the script of the current language. */
export function chineseScript(text) {
  return language === "zh-Hant" ? text.replace(/[马车帅将进后]/g, (c) => TRADITIONAL[c]) : text;
}

function pieceName(color, english) {
  return language === "en" ? english : chineseScript(PIECES[color][english] || english);
}

const LETTERS = { k: "general", a: "advisor", b: "elephant", n: "horse", r: "chariot", c: "cannon", p: "soldier" };

/** Words for a square's content (a FEN piece letter or null) for the board's screen-reader label. */
export function describeSquare(letter) {
  if (!letter) return t("empty");
  const color = letter === letter.toUpperCase() ? "red" : "black";
  return t(`${color} {piece}`, { piece: pieceName(color, LETTERS[letter.toLowerCase()]) });
}

/** The server's wording of a game's ending (e.g. "Black loses by perpetually chasing the red
 * chariot on e5") in the current language. */
export function ending(text) {
  for (const [pattern, words] of ENDINGS) {
    const m = text.match(pattern);
    if (m) return words(m);
  }
  return t(text);
}

const ATTRIBUTES = ["title", "aria-label", "placeholder"];

/** Translate the page's own text under `root` into the current language. */
export function translatePage(root = document.body) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const english = originals.get(node) ?? node.textContent.trim();
    if (!(english in STRINGS)) continue;
    originals.set(node, english);
    const padded = node.textContent.match(/^(\s*)[\s\S]*?(\s*)$/);
    node.textContent = padded[1] + t(english) + padded[2];
  }
  for (const element of root.querySelectorAll(ATTRIBUTES.map((a) => `[${a}]`).join(","))) {
    for (const attr of ATTRIBUTES) {
      if (!element.hasAttribute(attr)) continue;
      const data = `en${attr.replace(/-(\w)/g, (_, c) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase())}`;
      const english = element.dataset[data] ?? element.getAttribute(attr);
      if (!(english in STRINGS)) continue;
      element.dataset[data] = english;
      element.setAttribute(attr, t(english));
    }
  }
  document.title = TITLE[language];
  document.documentElement.lang = language;
}

/** Switch to `lang` (a key of LANGUAGES), remember it, translate the page and tell the listeners. */
export function setLanguage(lang) {
  if (!(lang in LANGUAGES)) return;
  language = lang;
  localStorage.setItem(KEY, lang);
  translatePage();
  for (const listener of listeners) listener(lang);
}

/** Add a module's own strings (English -> [简体, 繁體]), as STRINGS holds the page's. */
export function addStrings(strings) {
  Object.assign(STRINGS, strings);
}

/** Call `listener(lang)` after every language switch. */
export function onLanguageChange(listener) {
  listeners.push(listener);
}
