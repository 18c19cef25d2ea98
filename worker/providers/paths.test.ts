import { describe, expect, test } from 'vitest'
import { azureDeployment } from './azure-openai'
import { modelAfterModelsSegment } from './common'
import { googleListedModel } from './google'
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
