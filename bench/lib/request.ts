/**
 * The benchmark's request: a realistic Anthropic /v1/messages body of about 1 KB (a system
 * prompt, a short conversation, a code-review question), non-streaming or `stream: true`.
 */

const SYSTEM =
  'You are a careful senior software engineer reviewing pull requests for a payments team. ' +
  'Point out correctness problems first, then security, then readability. Quote the line you mean, ' +
  'say why it is a problem and propose a concrete fix. Keep the review under 200 words.';

const DIFF = [
  'diff --git a/src/refunds.ts b/src/refunds.ts',
  '@@ -41,7 +41,9 @@ export async function refund(paymentId: string, amountCents: number) {',
  '   const payment = await db.payments.get(paymentId);',
  '-  if (amountCents > payment.amountCents) throw new RefundError("too large");',
  '+  if (amountCents > payment.amountCents - payment.refundedCents) {',
  '+    throw new RefundError(`refund of ${amountCents} exceeds the remaining ${payment.amountCents - payment.refundedCents}`);',
  '+  }',
  '   await psp.refund(payment.pspRef, amountCents);',
  '   await db.payments.update(paymentId, { refundedCents: payment.refundedCents + amountCents });',
].join('\n');

export function messagesBody(stream: boolean): string {
  return JSON.stringify({
    model: 'claude-sonnet-4-6',
    max_tokens: 512,
    system: SYSTEM,
    messages: [
      { role: 'user', content: 'Can you review a small change to our refund code?' },
      { role: 'assistant', content: 'Of course. Paste the diff and tell me what the change is meant to fix.' },
      { role: 'user', content: `It stops partial refunds from exceeding what is left on the payment:\n\n${DIFF}` },
    ],
    metadata: { user_id: 'bench-user-1' },
    ...(stream ? { stream: true } : {}),
  });
}

export const MESSAGES_PATH = '/v1/messages';
