import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/** In-process notice that catalog items changed, so feature caches drop them. */
@Injectable()
export class ItemEvents {
  private readonly emitter = new EventEmitter();

  changed(ids: string[]): void {
    this.emitter.emit('changed', ids);
  }

  onChanged(listener: (ids: string[]) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
