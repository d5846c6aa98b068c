import { Injectable, Optional } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { ClusterBus } from '../../database/cluster-bus';

/**
 * Notice that catalog items changed, so feature caches drop them: emitted in this process and, through the
 * ClusterBus (LISTEN/NOTIFY), in every other replica.
 */
@Injectable()
export class ItemEvents {
  private readonly emitter = new EventEmitter();

  constructor(@Optional() private readonly bus?: ClusterBus) {
    bus?.on('items', ({ ids }) => this.emitter.emit('changed', ids));
  }

  changed(ids: string[]): void {
    this.emitter.emit('changed', ids);
    void this.bus?.publish('items', { ids });
  }

  onChanged(listener: (ids: string[]) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
