import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { uploadModelSchema, UploadModelInput } from './models.schema';
import { ModelsService } from './models.service';

@ApiTags('models')
@ApiBearerAuth()
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  /** Upload an ONNX ranker (base64) with its signature; validated by a test inference before it is stored. */
  @Post()
  @Access('experiments:write')
  @ApiBody({ schema: z.toJSONSchema(uploadModelSchema, { io: 'input' }) as object })
  upload(@Body(new ZodPipe(uploadModelSchema)) body: UploadModelInput, @CurrentPrincipal() actor: Principal) {
    return this.models.upload(body, actor);
  }

  @Get()
  @Access('experiments:read')
  list() {
    return this.models.list();
  }
}
