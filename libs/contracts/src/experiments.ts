import { validateTargeting } from '@slotwise/assignment';
import { DEFAULT_MODEL_TYPE, MODEL_TYPES } from '@slotwise/bandit';
import { METRIC_KEY } from './metric-key';
import { epsilonGreedyOptionsShape, thompsonOptionsShape } from './policy-options';
import { MODEL_REF_PATTERN } from './model-ref';
import { z } from 'zod';

export const EXPERIMENT_KEY = /^[a-z0-9][a-z0-9_-]{1,63}$/;
/** `name@version` of an uploaded ranker (libs/ranker owns the format). */
export const MODEL_REF = MODEL_REF_PATTERN;
export const POLICY_TYPES = ['ranker', 'thompson', 'epsilon-greedy', 'random'] as const;
/** libs/bandit's model list (policy and model options: policy-options.ts). */
export const THOMPSON_MODELS = MODEL_TYPES;

const featureName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/,
    'must start with a letter or _ and use letters, digits, _ . : - (at most 64)',
  );
const metricKey = z
  .string()
  .regex(METRIC_KEY, 'must be 1–64 characters of a–z, 0–9, _ . - starting with a letter or digit');

/** The default Thompson / ε-greedy model (libs/bandit `DEFAULT_MODEL_TYPE`, where the choice is explained). */
export const DEFAULT_THOMPSON_MODEL = DEFAULT_MODEL_TYPE;

const rankerPolicy = z.strictObject({ type: z.literal('ranker') });
const randomPolicy = z.strictObject({ type: z.literal('random') });
/** Options, defaults and bounds generated from libs/bandit's specs (THOMPSON_OPTIONS, NIG_MODEL_OPTIONS). */
const thompsonPolicy = z.strictObject({ type: z.literal('thompson'), ...thompsonOptionsShape });
/** EPSILON_GREEDY_OPTIONS (ε defaults to Vowpal Wabbit's 0.05) and NIG_MODEL_OPTIONS. */
const epsilonGreedyPolicy = z.strictObject({ type: z.literal('epsilon-greedy'), ...epsilonGreedyOptionsShape });

export const policySchema = z.discriminatedUnion(
  'type',
  [rankerPolicy, randomPolicy, thompsonPolicy, epsilonGreedyPolicy],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? `unknown policy type; expected one of ${POLICY_TYPES.join(', ')}` : undefined,
  },
);
export type PolicySpec = z.infer<typeof policySchema>;

export const variantSchema = z.strictObject({
  key: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1–64 characters of a–z, 0–9, _ or - starting with a letter or digit'),
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  weight: z.number().gt(0, 'must be greater than 0').max(1e6).default(1),
  policy: policySchema.optional(),
  /**
   * Shadow (apprentice mode, ranking experiments): the variant gets no traffic (assignment, weights and SRM leave it
   * out); on every served decision it decides too and its slate is logged beside the served one. PATCH it to false
   * to serve it (audited; a new phase gives it its weight's share).
   */
  shadow: z.boolean().default(false),
  /** Free-form payload returned by /v1/assign for "ab" experiments. */
  config: z.record(z.string(), z.unknown()).optional(),
});
export type VariantSpec = z.infer<typeof variantSchema>;

/** The variants that take traffic (shadow variants decide beside them but are never assigned). */
export function servedVariants<V extends { shadow?: boolean }>(variants: readonly V[]): V[] {
  return variants.filter((v) => !v.shadow);
}

const uniqueNames = (names: string[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate feature name "${n}"` });
    seen.add(n);
  });
};

const featuresSchema = z.strictObject({
  context: z.array(featureName).max(512).default([]).superRefine(uniqueNames),
  item: z.array(featureName).max(512).default([]).superRefine(uniqueNames),
});

const rankerSchema = z.strictObject({
  model: z
    .union([z.literal('none'), z.string().regex(MODEL_REF, 'must be "none" or an uploaded model "name@version"')])
    .default('none'),
  shortlist: z.int().min(1).max(2000).default(50),
});

const metricsSchema = z.strictObject({
  primary: metricKey.optional(),
  guardrails: z.array(metricKey).max(20).default([]),
  secondary: z.array(metricKey).max(50).default([]),
});

/** Fields an experiment definition may carry; create requires key, name, kind and variants. */
const definitionShape = {
  key: z.string().regex(EXPERIMENT_KEY, 'must match ^[a-z0-9][a-z0-9_-]{1,63}$'),
  /** Assignment hash salt; random when omitted. Set it to reproduce an assignment; it can never change afterwards. */
  salt: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, _ or -')
    .optional(),
  name: z.string().trim().min(1).max(200),
  hypothesis: z.string().max(5000).default(''),
  kind: z.enum(['ranking', 'ab'], { message: 'must be "ranking" or "ab"' }),
  assignment: z.enum(['hash', 'external'], { message: 'must be "hash" or "external"' }).default('hash'),
  trafficPercent: z.number().min(0).max(100).default(100),
  layer: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
    .nullable()
    .default(null),
  slots: z.int().min(1, 'must be between 1 and 50').max(50, 'must be between 1 and 50').optional(),
  features: featuresSchema.default({ context: [], item: [] }),
  ranker: rankerSchema.default({ model: 'none', shortlist: 50 }),
  variants: z.array(variantSchema).min(1).max(20),
  metrics: metricsSchema.default({ guardrails: [], secondary: [] }),
  coldStartThreshold: z.int().min(1).max(1_000_000).default(100),
  rewardWindowSeconds: z
    .int()
    .min(1)
    .max(90 * 86_400)
    .default(86_400),
  exploration: z
    .strictObject({ floor: z.number().min(0).max(1).default(0), cap: z.number().min(0).max(1).default(1) })
    .refine((e) => e.floor <= e.cap, { message: 'floor must not exceed cap', path: ['floor'] })
    .optional(),
  targeting: z.unknown().optional(),
  tags: z.array(z.string().max(64)).max(20).default([]),
  /**
   * Automatic guardrail stop: while running, the scheduled evaluation pauses or stops the experiment as soon as a
   * guardrail's always-valid interval lies entirely beyond its non-inferiority margin (`on` includes "guardrail")
   * or SRM is flagged (`on` includes "srm"). null / absent: off.
   */
  autoStop: z
    .strictObject({
      action: z.enum(['pause', 'stop'], { message: 'must be "pause" or "stop"' }).default('stop'),
      on: z
        .array(z.enum(['guardrail', 'srm'], { message: 'must be "guardrail" or "srm"' }))
        .min(1)
        .default(['guardrail'])
        .transform((l) => [...new Set(l)]),
    })
    .nullable()
    .optional(),
};

function checkDefinition(
  d: {
    kind: string;
    slots?: number;
    variants: VariantSpec[];
    features: { context: string[]; item: string[] };
    targeting?: unknown;
  },
  ctx: z.RefinementCtx,
) {
  // Targeting: libs/assignment's rule tree (eq, neq, in, nin, gt, gte, lt, lte, exists, regex, and, or, not) or a
  // GrowthBook-style condition ({"country": {"$in": ["DE"]}}), translated into it; paths point into what was sent.
  if (d.targeting !== undefined && d.targeting !== null) {
    for (const e of validateTargeting(d.targeting, 'targeting'))
      ctx.addIssue({ code: 'custom', path: e.parts, message: e.message });
  }
  const keys = new Set<string>();
  d.variants.forEach((v, i) => {
    if (keys.has(v.key))
      ctx.addIssue({ code: 'custom', path: ['variants', i, 'key'], message: `duplicate variant key "${v.key}"` });
    keys.add(v.key);
    if (d.kind === 'ranking' && !v.policy)
      ctx.addIssue({
        code: 'custom',
        path: ['variants', i, 'policy'],
        message: 'a ranking experiment needs a policy for every variant',
      });
    if (d.kind === 'ab' && v.policy)
      ctx.addIssue({
        code: 'custom',
        path: ['variants', i, 'policy'],
        message: 'policies belong to ranking experiments; use config for "ab"',
      });
  });
  d.variants.forEach((v, i) => {
    if (v.shadow && d.kind !== 'ranking')
      ctx.addIssue({
        code: 'custom',
        path: ['variants', i, 'shadow'],
        message: 'shadow variants belong to ranking experiments (they decide beside served rankings)',
      });
  });
  if (d.variants.length > 0 && d.variants.every((v) => v.shadow)) {
    ctx.addIssue({
      code: 'custom',
      path: ['variants'],
      message: 'at least one variant must be served (every variant is a shadow)',
    });
  }
  if (d.kind === 'ab' && d.variants.length < 2)
    ctx.addIssue({ code: 'custom', path: ['variants'], message: 'an "ab" experiment needs at least two variants' });
  if (d.kind === 'ranking' && d.slots === undefined)
    ctx.addIssue({ code: 'custom', path: ['slots'], message: 'a ranking experiment needs slots (1–50)' });
  const both = new Set(d.features.context);
  d.features.item.forEach((n, i) => {
    if (both.has(n))
      ctx.addIssue({
        code: 'custom',
        path: ['features', 'item', i],
        message: `"${n}" is also a context feature; feature names must be unique`,
      });
  });
}

export const createExperimentSchema = z.strictObject(definitionShape).superRefine(checkDefinition);
export type ExperimentDefinition = z.infer<typeof createExperimentSchema>;

/**
 * PATCH takes any subset of the definition except the key. Only the field names are checked here;
 * the merged definition is then validated as a whole, so errors carry the same paths as on create.
 */
const { key: _key, salt: _salt, ...patchable } = definitionShape;
export const patchExperimentSchema = z
  .strictObject(
    Object.fromEntries(Object.keys(patchable).map((k) => [k, z.unknown()])) as Record<
      keyof typeof patchable,
      z.ZodUnknown
    >,
  )
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change');
export type ExperimentPatch = z.infer<typeof patchExperimentSchema>;

export const experimentKeyParam = z.string().regex(EXPERIMENT_KEY, 'must match ^[a-z0-9][a-z0-9_-]{1,63}$');

export const listExperimentsQuery = z.strictObject({
  status: z.enum(['draft', 'running', 'paused', 'stopped']).optional(),
  kind: z.enum(['ranking', 'ab']).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type ListExperimentsQuery = z.infer<typeof listExperimentsQuery>;
