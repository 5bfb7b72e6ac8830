/**
 * Word lists behind prompt features: stopwords per language, the "scaffold" vocabulary of
 * prompt instructions, and the marker phrases of each signal family. Small constant tables;
 * docs/features.md explains how each is used. Everything here is lowercase.
 */

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** Stopwords used to vote for a Latin-script language (the 40 or so most frequent words). */
export const STOPWORDS: Record<string, string[]> = {
  en: words(`the be to of and a in that have i it for not on with he as you do at this but his by from they we
    say her she or an will my one all would there their what so up out if about who get which go me when
    make can like time no just him know take people into year your good some could them see other than then
    now look only come its over think also back after use two how our work first well way even new want
    because any these give day most us is are was were has had does did am been how why where hello hi thanks please`),
  es: words(`de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o este
    sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos
    uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto
    esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros mi mis tú te ti tu
    tus es son eres soy está estoy cómo puedo hola gracias quién cuál dónde`),
  fr: words(`le de un être et à il avoir ne je son que se qui ce dans en du elle au pour pas que vous par sur faire
    plus dire me on mon lui nous comme mais pouvoir avec tout y aller voir en bien où sans tu ou leur homme
    si deux mari moi vouloir te femme venir quand grand celui notre devoir là jour prendre même votre rien
    petit encore aussi quelque dont tout mer trouver donner temps ça peu même falloir sous parler alors
    sentir savoir les des est une la suis êtes sont comment bonjour merci pourquoi qui quoi ai`),
  de: words(`der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden
    aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder
    aber vor zur bis mehr durch man sein wurde sei ich du wir ihr mich dich mir dir bin bist kann wer was
    warum wo hallo danke bitte wie erzähle`),
  it: words(`di e il la che è per un in non una sono mi ho lo ma ha le si ti con cosa da se come io questo qui
    bene hai del tu sì me più al mio c'è perché lei solo te era gli tutto della così mia ne questa fare
    quando ciao grazie chi sei parla della tua posso essere`),
  pt: words(`de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das
    tem à seu sua ou ser quando muito há nos já está eu também só pelo pela até isso ela entre era depois
    sem mesmo aos ter seus quem nas me esse eles estão você tinha foram essa num nem suas meu às minha têm
    numa pelos elas havia seja qual será nós tenho lhe deles essas esses pelas este fosse dele tu te vocês
    vos lhes meus minhas teu tua olá obrigado obrigada como posso`),
  nl: words(`de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem dan
    zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb hoe heeft
    hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer doen toen moet
    ben zonder kan hun dus alles onder ja eens hier wie werd altijd doch wordt wezen kunnen ons zelf tegen
    na reeds wil kon niets uw iemand geweest andere hallo bedankt`),
  vi: words(`và của là có không được cho một những người này trong với để các bạn tôi thế nào làm chào đã sẽ
    đang rất nhiều khi cũng như từ về hay nếu thì mà còn gì sao đây đó ai`),
};

/** Words that tell Ukrainian from Russian when no distinctive letter does. */
export const CYRILLIC_WORDS: Record<'ru' | 'uk', Set<string>> = {
  uk: new Set(words(`як хто що це мені ти та або але чи він вона вони мене тебе розкажи будь ласка дякую привіт
    яка який зробити можу мій моя бути дуже також тому коли де`)),
  ru: new Set(words(`как кто что это мне ты и или но ли он она они меня тебя расскажи пожалуйста спасибо привет
    какая какой сделать могу мой моя быть очень также поэтому когда где`)),
};

/** Greetings that settle the language of a one-word prompt. */
export const GREETINGS: Record<string, string> = {
  hi: 'en',
  hello: 'en',
  hey: 'en',
  hola: 'es',
  bonjour: 'fr',
  salut: 'fr',
  hallo: 'de',
  ciao: 'it',
  olá: 'pt',
  oi: 'pt',
  hoi: 'nl',
};

/** One-word greetings in any script (task `chat`), matched against the whole trimmed prompt. */
export const GREETING_TEXTS = new Set(
  words(`hi hello hey hola bonjour salut hallo ciao olá oi hoi привет привіт здравствуйте 你好 您好 こんにちは
  안녕하세요 안녕 สวัสดี merhaba namaste`),
);

/**
 * The vocabulary of prompt scaffolding: the words that instructions, labels and format
 * requests are made of. A segment dominated by these (and stopwords) is template frame; a
 * segment with many other words is slot content.
 */
export const SCAFFOLD = new Set(
  words(`question questions answer answers answering answered solve solving solution solutions step steps
  think thinking thought thoughts reason reasons reasoning rationale explain explanation explanations
  following follow below above task tasks problem problems respond response responses reply output
  outputs input inputs format formatted chain consciousness stream carefully careful accurate accurately
  decision decide final detailed detail details concise concisely briefly brief please let's lets let
  given give provide show instructions instruction context passage options option choices choice
  choose select correct correctly incorrect true false yes no user assistant json return example
  examples translate translation summarize summary rewrite classify label category hmmm hmm ok okay
  sure gradually slowly slow process first then before consider considering evaluate determine
  calculate compute identify write generate create complete describe only must should exactly
  sentence sentences paragraph paragraphs query prompt request rules guidelines helpful harmless
  honest act acting pretend imagine suppose reasoned logic logically analyze analysis verify hint
  hints ensure thoroughly thorough in-depth`),
);

/** Greeting and small-talk words (task `chat`). */
export const CHAT_WORDS = new Set(
  words(`hi hello hey hiya howdy yo thanks thank bye goodbye morning evening night cheers lol haha sad happy
  lonely bored tired feel feeling yourself chat talk friend`),
);

/** Verbs that open an imperative prompt ("Write…", "List…"). */
export const IMPERATIVE_VERBS = new Set(
  words(`write explain describe list give tell make create generate summarize summarise translate rewrite
  compose draft design build implement solve calculate compute find identify classify extract compare
  provide suggest recommend help show name define convert outline plan analyze analyse evaluate review
  edit fix debug correct complete continue answer act pretend imagine play respond return output
  produce develop prepare propose brainstorm select choose determine estimate prove simplify sort
  check read consider use let please`),
);

export type Family = 'cot' | 'code' | 'tool' | 'bench' | 'probe';

/** A marker phrase: a token sequence (matched on lowercased word tokens) and the id it reports. */
export interface Phrase {
  family: Family;
  id: string;
  seq: string[];
}

const PHRASE_TABLE: [Family, string, string[]][] = [
  // chain-of-thought elicitation
  ['cot', 'cot:step', ['step by step', 'one step at a time', 'each step', 'every step', 'step by step reasoning', 'stage by stage', 'paso a paso', 'étape par étape', 'schritt für schritt', 'passo dopo passo', 'passo a passo', 'шаг за шагом', 'поэтапно', 'пошагово']],
  ['cot', 'cot:think', ["let's think", 'lets think', 'let us think', 'think carefully', 'think through', 'think hard', 'think first', 'think slowly', 'think about it', 'think before', 'let me think', 'think it through', 'think out loud', 'think aloud', 'take a deep breath', 'think step', 'reason step', 'reason slowly', 'reason carefully', 'think gradually', 'think now', 'answer this question slowly', 'answer slowly', "let's be accurate as possible", 'be accurate as possible and think']],
  ['cot', 'cot:reasoning', ['explain your reasoning', 'show your reasoning', 'your reasoning', 'reasoning process', 'with reasoning', 'reasoning first', 'by reasoning', 'use reasoning', 'rationale first', 'the rationale', 'give me reasons', 'explain why', 'justify your answer', 'explain your answer', 'with explanation', 'answer explanation', 'thought process', 'explain each step']],
  ['cot', 'cot:chain', ['chain of thought', 'chain of thoughts', 'stream of consciousness', 'train of thought', 'random thoughts', 'some thoughts', 'your thoughts', 'my thoughts', 'inner monologue']],
  ['cot', 'cot:work', ['show your work', 'show all your work', 'show all of your work', 'show all of the work', 'show all of your working', 'show your working', 'show all of your steps', 'show all of the steps', 'show the steps', 'show all steps', 'show all the steps', 'intermediate steps', 'full reasoning', 'detailed solution', 'walk me through', 'break it down', 'break down the problem', 'solve this problem gradually', 'solve this gradually', 'answer this question gradually', 'answer step by step', 'before answering', 'before giving your answer', 'lay out the solution', 'scratchpad', 'scratch pad']],
  // asking for or containing code
  ['code', 'code:ask', ['write a function', 'write a program', 'write a script', 'write code', 'write the code', 'write a class', 'write a python', 'write a javascript', 'write a sql', 'code snippet', 'implement a function', 'implement the function', 'implement a', 'sql query', 'regular expression', 'fix this code', 'fix the code', 'debug this', 'this code', 'the following code', 'unit test', 'unit tests', 'time complexity', 'write a bash', 'shell script', 'function that', 'a program that', 'a script that', 'in python', 'in javascript', 'in typescript', 'in java', 'in rust', 'in golang', 'in c', 'using python', 'using javascript', 'complete the function', 'complete the code']],
  ['code', 'code:lang', ['python', 'javascript', 'typescript', 'java', 'c++', 'c#', 'rust', 'golang', 'sql', 'bash', 'powershell', 'html', 'css', 'react', 'pytorch', 'tensorflow', 'pandas', 'numpy', 'docker', 'kubernetes', 'kotlin', 'swift', 'php', 'ruby', 'perl', 'scala', 'haskell', 'regex', 'yaml', 'compiler', 'github', 'linux', 'node js', 'nodejs', 'vba', 'matlab', 'golang', 'django', 'flask', 'numpy', 'jupyter', 'sqlite', 'postgresql', 'mysql']],
  ['code', 'code:kw', ['def', 'import', 'elif', 'lambda', 'const', 'console log', 'println', 'printf', 'std', 'include', 'namespace', 'async def', 'public static', 'return', 'self', 'null', 'void', 'typedef', 'struct', 'fn', 'impl', 'func', 'select from', 'from typing import']],
  // tool use and agent traces
  ['tool', 'tool:ask', ['call the tool', 'use the tool', 'use the tools', 'available tools', 'access to the following tools', 'the following tools', 'function call', 'function calls', 'tool call', 'tool calls', 'call a function', 'call the function', 'tool use', 'function calling', 'api call', 'tool calling']],
  ['tool', 'tool:react', ['action input', 'final answer thought']],
  // benchmark scaffolds
  ['bench', 'bench:mc', ['which of the following', 'choose the correct', 'select the correct', 'correct option', 'correct answer', 'answer choices', 'answer options', 'the best answer', 'answer with the letter', 'answer with only', 'only the letter', 'options are', 'choose from']],
  ['bench', 'bench:final', ['the answer is', 'final answer', 'the final answer', 'answer yes or no', 'yes or no', 'true or false', 'the answer', 'put your final answer', 'boxed']],
  ['bench', 'bench:word_problem', ['how many', 'how much', 'how long will', 'how far', 'what is the total', 'in total', 'altogether', 'per hour', 'per day', 'each costs', 'percent of', 'what percentage']],
  // refusal-boundary probing
  ['probe', 'probe:ignore', ['ignore previous instructions', 'ignore all previous instructions', 'ignore the previous instructions', 'ignore all prior instructions', 'ignore prior instructions', 'ignore the above', 'ignore all the instructions', 'ignore your instructions', 'disregard previous instructions', 'disregard all previous', 'disregard your', 'forget all previous', 'forget your instructions', 'ignore all instructions', 'ignore everything above']],
  ['probe', 'probe:persona', ['do anything now', 'developer mode', 'jailbreak', 'jailbroken', 'dan mode', 'unfiltered', 'uncensored', 'amoral', 'no ethical', 'no moral', 'without any restrictions', 'no restrictions', 'no limitations', 'not bound by', 'free from all restrictions', 'stay in character', 'you are no longer', 'from now on you', 'from now on, you', 'never refuse', 'will never refuse', 'cannot refuse', "can't refuse", 'does not refuse', "don't refuse", 'not refuse', 'without refusing', 'never say no', 'no matter how immoral', 'always intelligent and machiavellian', 'evil confidant', 'opposite mode', 'anti gpt', 'betterdan', 'stan']],
  ['probe', 'probe:policy', ['as an ai', 'as a language model', 'as an ai language model', 'content policy', 'openai policy', 'openai content policy', 'safety guidelines', 'ethical guidelines', 'moral guidelines', 'against the rules', 'bypass', 'circumvent', 'your programming', 'your guidelines', 'your filters', 'censorship', 'i apologize', "i'm sorry"]],
  ['probe', 'probe:fiction', ['purely fictional', 'for educational purposes', 'educational purposes only', 'for research purposes', 'hypothetical scenario', 'hypothetically', 'in this hypothetical', 'hypothetical story', 'fictional story', 'for a novel', 'for my novel', 'imaginary world', 'parallel universe', 'role play', 'roleplay', 'in a fictional', 'fictional world', 'this is just a story', 'purely hypothetical', 'plausible deniability', 'euphemism', 'fictional narrative', 'never be actually used', 'will never be used', 'not be used in real', 'for a screenplay', 'for a movie script', 'for a story', 'begin your reply with', 'start your response with', 'sure here is']],
  ['probe', 'probe:harm', ['bomb', 'explosive', 'explosives', 'weapon', 'weapons', 'bioweapon', 'nerve agent', 'malware', 'ransomware', 'keylogger', 'virus that', 'hack into', 'hacking', 'exploit vulnerabilities', 'steal', 'stealing', 'counterfeit', 'launder', 'laundering', 'phishing', 'poison', 'methamphetamine', 'meth', 'synthesize', 'self harm', 'suicide', 'kill', 'murder', 'terrorist', 'dox', 'doxx', 'illegal', 'illegally', 'untraceable', 'without getting caught', 'without detection', 'evade', 'defamatory', 'harass', 'extremist', 'smuggle', 'bypass security', 'insider trading', 'child pornography', 'fraud', 'fraudulent', 'cyberbullying', 'assault', 'violence', 'hate speech', 'racist', 'blackmail', 'extort', 'stalk', 'scam', 'pornographic', 'drugs', 'firearm', 'firearms', 'gun', 'overdose', 'ransom']],
];

/** Marker phrases indexed by their first token. */
export const PHRASES: Map<string, Phrase[]> = new Map();
for (const [family, id, list] of PHRASE_TABLE) {
  for (const p of list) {
    // Tokenized the way the tokenizer splits words: hyphens and spaces separate.
    const seq = p.split(/[\s\-.,]+/).filter(Boolean);
    const first = seq[0]!;
    let arr = PHRASES.get(first);
    if (!arr) {
      arr = [];
      PHRASES.set(first, arr);
    }
    arr.push({ family, id, seq });
  }
}
// Longest first, so "step by step reasoning" is tried before "step by step".
for (const arr of PHRASES.values()) arr.sort((a, b) => b.seq.length - a.seq.length);

/** Chain-of-thought markers in scripts without spaces, matched as substrings. */
export const CJK_COT = ['一步一步', '逐步', '思考', '推理过程', '推理步骤', '解题步骤', '详细步骤', '分步', 'ステップバイステップ', '段階的に', '順を追って', '단계별', '차근차근'];

/** Task categories (see docs/features.md) with their keyword cues, each cue a token sequence. */
export const TASKS = [
  'math',
  'code',
  'reasoning',
  'writing',
  'translation',
  'qa-knowledge',
  'roleplay',
  'extraction',
  'summarization',
  'chat',
  'other',
] as const;
export type Task = (typeof TASKS)[number];

export const TASK_CUES: [Exclude<Task, 'other'>, number, string[]][] = [
  ['math', 2, ['solve for', 'equation', 'equations', 'calculate', 'compute the', 'integral', 'derivative', 'probability', 'percent', 'percentage', 'how many', 'how much', 'sum of', 'product of', 'remainder', 'divisible', 'prime', 'algebra', 'geometry', 'triangle', 'area of', 'math', 'mathematics', 'arithmetic', 'average', 'ratio', 'fraction', 'square root', 'factor', 'polynomial', 'matrix', 'theorem', 'prove that', 'in total', 'altogether', 'per hour', 'miles', 'dollars', 'cents', 'profit', 'interest rate']],
  ['translation', 3, ['translate', 'translation', 'translate into', 'into english', 'into french', 'into spanish', 'into german', 'into chinese', 'into japanese', 'in english', 'in french', 'in spanish', 'in german', 'in chinese', 'in japanese', 'traducir', 'traduire', 'übersetze', '翻译', '翻訳']],
  ['summarization', 3, ['summarize', 'summarise', 'summary', 'summarization', 'tl dr', 'tldr', 'key points', 'main points', 'condense', 'in a nutshell', 'brief overview', 'gist', '总结', '摘要']],
  ['extraction', 3, ['extract', 'extraction', 'list all', 'find all', 'named entities', 'parse', 'pull out', 'from the following text', 'from this text', 'in json format', 'as json', 'as a table', 'fill in the', 'identify all', 'tag the', 'classify the', 'categorize', 'label each']],
  ['writing', 2, ['write a story', 'write a poem', 'write an essay', 'write an email', 'write a letter', 'write a blog', 'write an article', 'write a song', 'write a speech', 'write a cover letter', 'write a tweet', 'write a post', 'write a short', 'write me', 'compose', 'draft', 'essay', 'poem', 'story', 'stories', 'lyrics', 'haiku', 'limerick', 'blog post', 'article', 'email', 'letter', 'slogan', 'tagline', 'outline', 'rewrite', 'paraphrase', 'proofread', 'edit', 'tone', 'creative', 'persuasive', 'novel', 'chapter', 'headline', 'caption', 'content', 'copywriter', 'marketing']],
  ['roleplay', 3, ['act as', 'i want you to act', 'you are a', 'you are an', 'pretend to be', 'pretend you are', 'roleplay', 'role play', 'stay in character', 'in character', 'you will be', 'your role', 'play the role', 'imagine you are', 'you are now', 'persona', 'from now on']],
  ['reasoning', 2, ['riddle', 'puzzle', 'logic', 'logical', 'deduce', 'infer', 'yes or no', 'true or false', 'could', 'would', 'is it possible', 'which is', 'if all', 'therefore', 'paradox', 'hypothesis', 'reason', 'reasoning', 'why does', 'why is', 'implies', 'conclude', 'argument']],
  ['qa-knowledge', 1, ['what is', 'what are', 'who is', 'who was', 'who were', 'when did', 'when was', 'where is', 'where was', 'which of the following', 'what does', 'how does', 'how do', 'define', 'definition', 'history of', 'meaning of', 'difference between', 'explain', 'tell me about', 'what happened', 'why do', 'capital of', 'facts']],
  ['chat', 2, ['hi', 'hello', 'hey', 'how are you', 'good morning', 'thank you', 'thanks', "i'm sad", 'i am sad', 'i feel', 'about yourself', 'who are you', 'your name', "let's chat", 'talk to me', 'tell me a joke', 'joke']],
];
