import { describe, expect, test } from 'vitest'
import { azureDeployment } from './azure-openai'
import { modelAfterModelsSegment } from './common'
import { anthropicStoredObjects } from './anthropic'
import { googleListedModel, googleStoredObjects } from './google'
import { openAiStoredObjects } from './openai-style'
import { huggingFaceModel } from './huggingface'
import { replicateModel } from './replicate'
import { workersAiModel } from './workers-ai'

// How each adapter reads the model from the path after `/api/<provider>/`, on paths as the
// providers document them (AI Gateway keeps the provider's own path after its slug).
const rest = (path: string) => path.split('/')

const readers = {
  'Google (and OpenAI model routes)': modelAfterModelsSegment,
  'Azure OpenAI (the deployment)': azureDeployment,
  'Workers AI': workersAiModel,
  'Hugging Face': huggingFaceModel,
  Replicate: replicateModel,
}

describe('model from the path', () => {
  test.each<[keyof typeof readers, string, string | undefined]>([
    [
      'Google (and OpenAI model routes)',
      'v1beta/models/gemini-2.5-flash:generateContent',
      'gemini-2.5-flash',
    ],
    [
      'Google (and OpenAI model routes)',
      'v1beta/models/gemini-2.5-flash:streamGenerateContent',
      'gemini-2.5-flash',
    ],
    ['Google (and OpenAI model routes)', 'v1/models/text-embedding-004:embedContent', 'text-embedding-004'],
    ['Google (and OpenAI model routes)', 'v1beta/models', undefined],
    ['Google (and OpenAI model routes)', 'v1beta/openai/chat/completions', undefined],
    ['Azure OpenAI (the deployment)', 'my-resource/gpt-4o-prod/chat/completions', 'gpt-4o-prod'],
    ['Azure OpenAI (the deployment)', 'my-resource/ada-embeddings/embeddings', 'ada-embeddings'],
    ['Azure OpenAI (the deployment)', 'res/my%20deploy/chat/completions', 'my deploy'],
    ['Azure OpenAI (the deployment)', 'my-resource', undefined],
    ['Workers AI', '@cf/meta/llama-3.1-8b-instruct', '@cf/meta/llama-3.1-8b-instruct'],
    [
      'Workers AI',
      '@hf/thebloke/deepseek-coder-6.7b-instruct-awq',
      '@hf/thebloke/deepseek-coder-6.7b-instruct-awq',
    ],
    ['Workers AI', 'v1/chat/completions', undefined],
    ['Hugging Face', 'bigcode/starcoder', 'bigcode/starcoder'],
    [
      'Hugging Face',
      'distilbert/distilbert-base-uncased-finetuned-sst-2-english',
      'distilbert/distilbert-base-uncased-finetuned-sst-2-english',
    ],
    ['Hugging Face', 'gpt2', undefined],
    ['Replicate', 'models/black-forest-labs/flux-schnell/predictions', 'black-forest-labs/flux-schnell'],
    ['Replicate', 'models/meta/meta-llama-3-70b-instruct/predictions', 'meta/meta-llama-3-70b-instruct'],
    ['Replicate', 'predictions', undefined],
  ])('%s: %s → %s', (provider, path, model) => {
    expect(readers[provider](rest(path))).toBe(model)
  })
})

describe('model ids in provider model lists', () => {
  test('Google lists `models/<id>`; requests name `<id>`', () => {
    expect(googleListedModel('models/gemini-2.5-flash')).toBe('gemini-2.5-flash')
    expect(googleListedModel('gemini-2.5-flash')).toBe('gemini-2.5-flash')
  })
})

describe('stored-object endpoints', () => {
  const openai = (method: string, path: string) => openAiStoredObjects(path.split('/'), method)
  test.each([
    ['GET', 'chat/completions', true],
    ['POST', 'chat/completions', false],
    ['POST', 'chat/completions/chatcmpl-1', true],
    ['GET', 'responses/resp_1/input_items', true],
    ['POST', 'responses', false],
    ['POST', 'responses/input_tokens', false],
    ['POST', 'files', true],
    ['GET', 'v1/files/file-1', true],
    ['POST', 'embeddings', false],
    ['GET', 'models', false],
  ])('OpenAI-style %s %s: %s', (method, path, stored) => {
    expect(openai(method, path)).toBe(stored)
  })

  test.each([
    ['v1beta/files', true],
    ['upload/v1beta/files', true],
    ['v1beta/cachedContents/abc', true],
    ['v1beta/tunedModels', true],
    ['v1beta/tunedModels/my-tune', true],
    ['v1beta/tunedModels/my-tune:generateContent', false],
    ['v1beta/models/gemini-2.5-flash:generateContent', false],
  ])('Google %s: %s', (path, stored) => {
    expect(googleStoredObjects(path.split('/'))).toBe(stored)
  })

  test.each([
    ['v1/files', true],
    ['v1/messages/batches/msgbatch_1', true],
    ['v1/messages', false],
    ['v1/messages/count_tokens', false],
  ])('Anthropic %s: %s', (path, stored) => {
    expect(anthropicStoredObjects(path.split('/'))).toBe(stored)
  })
})
