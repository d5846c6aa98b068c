import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Access } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { AuditQueryInput, auditQuerySchema, AuditService } from './audit.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Access('audit:read')
  list(@Query(new ZodPipe(auditQuerySchema, 'query')) query: AuditQueryInput) {
    return this.audit.list(query);
  }
}
