import { Injectable, Optional } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { ClusterBus } from '../../database/cluster-bus';

/**
 * Notice that an experiment changed, so caches (the rank engine's, compiled assignments) reload it: emitted in this
 * process and, through the ClusterBus (LISTEN/NOTIFY), in every other replica.
 */
@Injectable()
export class ExperimentEvents {
  private readonly emitter = new EventEmitter();

  constructor(@Optional() private readonly bus?: ClusterBus) {
    bus?.on('experiment', ({ key }) => this.emitter.emit('changed', key));
  }

  changed(key: string): void {
    this.emitter.emit('changed', key);
    void this.bus?.publish('experiment', { key });
  }

  onChanged(listener: (key: string) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
