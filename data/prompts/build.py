#!/usr/bin/env python3
"""Builds the compact prompt corpora in data/prompts/ from the snapshot of public datasets.

Usage: python3 data/prompts/build.py /path/to/shared/data

Each output line is {"id", "text", "tags"}; only permissively licensed sets are read (see SOURCE.md).
Sampling is deterministic (file order, fixed strides), so re-running gives the same files.
"""
import csv, json, re, sys, os

csv.field_size_limit(10**9)
SRC = sys.argv[1]
OUT = os.path.dirname(os.path.abspath(__file__))
CJK = re.compile(r'[\u4e00-\u9fff]')
MAX_CHARS = 3000


def tags(text, **kw):
    t = {k: v for k, v in kw.items() if v is not None}
    if CJK.search(text):
        t['lang'] = 'zh'
    return t


def write(name, rows):
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    n = 0
    with open(os.path.join(OUT, name, 'prompts.jsonl'), 'w', encoding='utf-8') as f:
        for i, (text, tg) in enumerate(rows):
            text = text.strip()
            if not text or len(text) > MAX_CHARS:
                continue
            f.write(json.dumps({'id': f'{name}/{i}', 'text': text, 'tags': tg}, ensure_ascii=False) + '\n')
            n += 1
    src = SOURCES[name]
    with open(os.path.join(OUT, name, 'SOURCE.md'), 'w', encoding='utf-8') as f:
        f.write(f"# {name}\n\n{src['what']}\n\n- **Source:** {src['source']}\n- **Licence:** {src['licence']}\n"
                f"- **Copied:** 2026-11-26 from the project's snapshot of public data (file: {src['files']})\n"
                f"- **Sampling:** {src['sampling']}; prompts over {MAX_CHARS} characters dropped; {n} prompts kept.\n"
                f"- **Format:** JSON Lines `{{\"id\", \"text\", \"tags\"}}`; `tags.lang` is `zh` where the text contains Chinese characters.\n"
                f"- Built by `data/prompts/build.py`.\n")


def jsonl(path):
    with open(os.path.join(SRC, path), encoding='utf-8') as f:
        return [json.loads(l) for l in f if l.strip()]


SOURCES = {
    'oasst': dict(what='Real user prompts from the OpenAssistant crowd-sourcing effort (as used by oasst-model-eval).', source='https://github.com/Open-Assistant/oasst-model-eval @ ce935dee6922ec75d5a4006dd1c3595b39a01fdf, model_eval/manual/data/', licence='Apache-2.0', files='en_100_text.jsonl, prompt_lottery_en_250_text.jsonl, multilingual-60.jsonl', sampling='all prompts'),
    'arena-hard': dict(what='Hard real user queries curated from LMSYS Chatbot Arena (Arena-Hard v0.1 and v2.0 prompts only; no model answers).', source='https://github.com/lmarena/arena-hard-auto @ 196f6b826783b3da7310e361a805fa36f0be83f3, data/arena-hard-v0.1/question.jsonl and data/arena-hard-v2.0/question.jsonl', licence='Apache-2.0', files='question.jsonl (both versions)', sampling='all prompts'),
    'awesome-chatgpt': dict(what='Role and task prompts people paste into chat products (f/awesome-chatgpt-prompts).', source='https://github.com/f/awesome-chatgpt-prompts @ 32cb65f4bae5f46bfa7c1cb8af2aeb6c1a57b098 and @ a519527ca69f764f0e6afe58290a73cd6a6421b8, prompts.csv', licence='CC0-1.0', files='prompts.csv (2025-01-06 classic list; 2026-03-15 list, first 1291 records)', sampling='whole classic list; from the 2026 list the TEXT prompts under 1500 characters, every other English one and every Chinese one'),
    'self-instruct': dict(what='Expert-written user-oriented instructions from the Self-Instruct paper, each with its first instance input.', source='https://github.com/yizhongw/self-instruct @ 0b26ccaa415992100fa32df62d41b994cf928e23, human_eval/user_oriented_instructions.jsonl', licence='Apache-2.0', files='user_oriented_instructions.jsonl', sampling='all 252 instructions'),
    'flan-cot': dict(what='Chain-of-thought task questions from the FLAN 2022 collection (StrategyQA, AQuA, QASC, GSM8K); questions only, rationales not copied.', source='https://github.com/google-research/FLAN @ e9e4ec6e2701182c7a91af176f705310da541277, flan/v2/cot_data/', licence='Apache-2.0', files='strategyqa_train.tsv, aqua_train.tsv, qasc_train.tsv, gsm8k_train.tsv (first 2068 lines)', sampling='a fixed stride through each file: 200, 200, 150 and 150 questions'),
    'gsm8k': dict(what='Grade-school math word problems (questions only).', source='https://github.com/openai/grade-school-math @ 3101c7d5072418e28b9008a6636bde82a006892c, grade_school_math/data/test.jsonl', licence='MIT', files='test.jsonl', sampling='every other test question'),
    'human-eval': dict(what='HumanEval Python programming problems (prompt part only: signature and docstring).', source='https://github.com/openai/human-eval @ 6d43fb980f9fee3c892a914eda09951f772ad10d, data/HumanEval.jsonl.gz', licence='MIT', files='HumanEval.jsonl', sampling='all 164 problems'),
    'mmlu': dict(what='MMLU multiple-choice questions, formatted as a prompt with lettered choices; tags.subject names the subject.', source='MMLU (Hendrycks et al., MIT) as re-exported by https://github.com/HaeChan0305/MLILAB-FedLLM @ d92730e8bacd7b3a61e551e015e40588e10234b4 (Apache-2.0), data/mmlu/test/*.csv', licence='MIT (MMLU); re-export Apache-2.0', files='test CSVs, first 25 per subject', sampling='first 12 questions of each subject'),
    'mt-bench': dict(what='MT-Bench and Vicuna-bench questions (first turns) with their category.', source='https://github.com/lm-sys/FastChat @ 0e6d3e4beaab66f4d3f93db72541a4abab8af28d, fastchat/llm_judge/data/{mt_bench,vicuna_bench}/question.jsonl', licence='Apache-2.0', files='question.jsonl (both benches)', sampling='all questions, first turn'),
}

# oasst: real user prompts (all three text files)
rows = []
for fn in ['oasst-prompts/en_100_text.jsonl', 'oasst-prompts/prompt_lottery_en_250_text.jsonl', 'oasst-prompts/multilingual-60.jsonl']:
    for p in jsonl(fn):
        rows.append((p, tags(p)))
write('oasst', rows)

# arena-hard: real hard user queries; every v0.1 prompt and every v2.0 prompt up to MAX_CHARS
rows = []
for fn in ['arena-hard-auto/arena-hard-v0.1_question.jsonl', 'arena-hard-auto/arena-hard-v2.0_question.jsonl']:
    for r in jsonl(fn):
        rows.append((r['prompt'], tags(r['prompt'], category=r.get('subcategory') or r.get('category'))))
write('arena-hard', rows)

# awesome-chatgpt-prompts: classic list + the short text prompts of the 2026 list
rows = []
with open(os.path.join(SRC, 'awesome-chatgpt-prompts/prompts_classic_2025-01-06.csv'), encoding='utf-8') as f:
    for r in csv.DictReader(f):
        rows.append((r['prompt'], tags(r['prompt'], act=r['act'])))
with open(os.path.join(SRC, 'awesome-chatgpt-prompts/prompts_2026-03-15_first1291.csv'), encoding='utf-8') as f:
    n = 0
    for r in csv.DictReader(f):
        if r['type'] != 'TEXT' or len(r['prompt']) > 1500:
            continue
        n += 1
        if n % 2 == 0 and not CJK.search(r['prompt']):
            continue  # keep every other English prompt, all Chinese ones
        rows.append((r['prompt'], tags(r['prompt'], act=r['act'])))
write('awesome-chatgpt', rows)

# self-instruct: user-oriented instructions with their first instance input
rows = []
for r in jsonl('self-instruct/user_oriented_instructions.jsonl'):
    inst = (r.get('instances') or [{}])[0].get('input', '')
    text = r['instruction'] + ('\n\n' + inst if inst else '')
    rows.append((text, tags(text, app=r.get('motivation_app'))))
write('self-instruct', rows)

# flan-cot: questions only (the campaign adds its own chain-of-thought elicitation)
rows = []
for fn, per in [('strategyqa_train.tsv', 200), ('aqua_train.tsv', 200), ('qasc_train.tsv', 150), ('gsm8k_train_first2068.tsv', 150)]:
    with open(os.path.join(SRC, 'flan-cot', fn), encoding='utf-8') as f:
        lines = [l.rstrip('\n').split('\t') for l in f if l.strip()]
    stride = max(1, len(lines) // per)
    for l in lines[::stride][:per]:
        rows.append((l[0], tags(l[0], task=fn.split('_')[0])))
write('flan-cot', rows)

# gsm8k: every other test question
rows = [(r['question'], tags(r['question'])) for r in jsonl('gsm8k/test.jsonl')[::2]]
write('gsm8k', rows)

# human-eval: all 164 problems
rows = [(r['prompt'], tags(r['prompt'], task=r['task_id'])) for r in jsonl('human-eval/HumanEval.jsonl')]
write('human-eval', rows)

# mmlu: first 12 questions of each subject, formatted as a multiple-choice prompt
rows, seen = [], {}
with open(os.path.join(SRC, 'mmlu/mmlu_test_first25_per_subject.csv'), encoding='utf-8') as f:
    for r in csv.DictReader(f):
        s = r['subject']
        seen[s] = seen.get(s, 0) + 1
        if seen[s] > 12:
            continue
        text = r['question'] + '\n' + '\n'.join(f'{k}. {r["choice" + str(i)]}' for i, k in enumerate('ABCD'))
        rows.append((text, tags(text, subject=s)))
write('mmlu', rows)

# mt-bench + vicuna-bench: first turns, with category
rows = []
for fn in ['fastchat-mt-bench/mt_bench_question.jsonl', 'fastchat-mt-bench/vicuna_bench_question.jsonl']:
    for r in jsonl(fn):
        rows.append((r['turns'][0], tags(r['turns'][0], category=r['category'])))
write('mt-bench', rows)
