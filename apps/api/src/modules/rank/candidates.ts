import type { Candidate } from '@slotwise/bandit';
import type { StoredShortlist } from './model-state.repository';

/** A shortlisted candidate as stored with its decision, rebuilt for the posterior (replay, reward corrections). */
export function banditCandidate(shortlist: StoredShortlist, index: number): Candidate {
  const embedding = shortlist.embeddings?.[String(index)];
  return {
    id: shortlist.ids[index],
    features: shortlist.features[index],
    rankerScore: shortlist.rankerScores[index],
    ...(embedding ? { embedding } : {}),
  };
}
