import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/** In-process notice that an experiment changed, so caches (the rank engine's) reload it. */
@Injectable()
export class ExperimentEvents {
  private readonly emitter = new EventEmitter();

  changed(key: string): void {
    this.emitter.emit('changed', key);
  }

  onChanged(listener: (key: string) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
