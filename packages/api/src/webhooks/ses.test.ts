import { expect, test } from 'vitest';
import { isSnsSubscribeUrl } from './ses.js';

test('a SubscribeURL is called only when it is https on an SNS host, on the default port', () => {
  for (const url of [
    'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:t&Token=abc',
    'https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription',
    'https://sns.eu-west-1.amazonaws.com:443/?Action=ConfirmSubscription',
  ]) {
    expect(isSnsSubscribeUrl(url), url).toBe(true);
  }
  for (const url of [
    undefined,
    '',
    'not a url',
    'http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
    'https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription',
    'https://evil.example/sns.us-east-1.amazonaws.com/',
    'https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription',
    'https://user@sns.us-east-1.amazonaws.com@evil.example/',
    'https://xsns.us-east-1.amazonaws.com/',
    'https://127.0.0.1/?Action=ConfirmSubscription',
  ]) {
    expect(isSnsSubscribeUrl(url), String(url)).toBe(false);
  }
});
